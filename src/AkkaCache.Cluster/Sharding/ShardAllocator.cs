using System.Runtime.InteropServices;

namespace AkkaCache.Cluster.Sharding;

/// <summary>How the leader allocates shards.</summary>
/// <param name="ReplicaCount">Replicas wanted per shard (each on another member than the primary); fewer when the
/// cluster has fewer than <c>ReplicaCount + 1</c> members that are not leaving.</param>
/// <param name="MaxShardsInFlight">New migrations start only while fewer than this many shards have
/// <see cref="ShardAssignment.MigratingTo"/> set (at least 1, or the cluster could never rebalance). Lowering it cancels
/// no migration already in flight: they may exceed it until they complete.</param>
public sealed record AllocationSettings(int ReplicaCount, int MaxShardsInFlight);

/// <summary>
/// Computes the shard map the leader writes, from the current map and the live members. Pure and deterministic: no
/// I/O, no clock, no randomness; members are ordered by <see cref="string.CompareOrdinal(string, string)"/> of their id.
/// </summary>
/// <remarks>
/// <para><b>Primaries.</b> With S shards and A members that are not leaving, every such member gets a quota of
/// ⌊S/A⌋ primaries, and S mod A of them (those holding most now, then by id) one more; a leaving member's quota is 0.
/// A member's load counts the shards it is primary of and not migrating away, plus the shards migrating to it.
/// Only a member above its quota gives shards away, and only its excess: a live primary is moved by setting
/// <see cref="ShardAssignment.MigratingTo"/> to a member below its quota (preferring one that already holds a replica
/// of the shard, which has the data), never by changing the primary; ownership switches in
/// <see cref="CompleteMigration"/> once the target has caught up. New migrations start only while fewer than
/// <see cref="AllocationSettings.MaxShardsInFlight"/> are in flight; leaving members drain first.</para>
/// <para><b>Failures.</b> A shard whose primary is no longer live is failed over at once: the live replica with the
/// highest <c>replicaOffset</c> is promoted (ties: a member that is not leaving, then the one with fewer primaries,
/// then by id). With no live replica but a live migration target, the target is promoted (it holds at least part of
/// the data); with neither, the shard goes straight to the member furthest below its quota (its data is lost: it is a
/// cache). A migration whose target is dead or leaving, or whose primary died, is cancelled. A migration whose target
/// is now above its quota (e.g. after a member joined) is nevertheless completed: its hand-off may already have
/// made the target the one answering for the shard (-ASK), and taking it back could drop writes the target
/// acknowledged; the overshoot moves back later like any excess. If every
/// live member is leaving, the leaving set is ignored: someone has to serve.</para>
/// <para><b>Replicas.</b> A shard wants min(ReplicaCount, A − 1) replicas (A while its primary is leaving and not yet
/// migrating: they are where it will go), never on its primary nor its migration target nor a leaving member. While a
/// shard migrates its target counts as one copy, so one replica slot may stay empty until
/// <see cref="CompleteMigration"/> fills it with the old primary. Valid existing replicas stay where they are. Each
/// member gets a replica quota, as even as possible (to within one) given that a member cannot back up the shards it
/// owns or imports. A new replica goes preferably to a member whose zone differs from the (future) primary's and the
/// other replicas', then to one below its quota, then to the member backing up fewest of that primary's shards (so a
/// failure spreads its shards over the survivors). Members above quota then hand their excess to members below,
/// first without putting more copies in one zone, then regardless, then along chains: count balance wins over zone
/// spreading when both cannot hold (zones of unequal size).</para>
/// <para><b>Members.</b> The map's members are the live members, except that a leaving member is dropped once it
/// holds nothing (the caller can stop it then). Assignments only name members of the map.</para>
/// <para><b>Epoch.</b> When nothing changes, <see cref="Rebalance"/> returns <c>previous</c> itself; otherwise the
/// epoch is <c>previous.Epoch + 1</c>.</para>
/// </remarks>
public static class ShardAllocator
{
    /// <summary>Computes the next shard map.</summary>
    /// <param name="previous">The current map (<see cref="ShardMap.Empty"/> when the cluster is created).</param>
    /// <param name="members">The live members (those holding their lease), in any order; ids must be distinct.</param>
    /// <param name="settings">Replica count and migration limit.</param>
    /// <param name="replicaOffset">For failover: how up to date <c>member</c>'s copy of <c>shard</c> is (higher is
    /// newer). Called only for the live replicas of a shard whose primary died. Null: all equal.</param>
    /// <param name="leaving">Members leaving gracefully: they keep serving what they hold, but all their primaries
    /// migrate away, they get no new shards and hold no replicas. Ids not in <paramref name="members"/> are ignored.</param>
    /// <returns><paramref name="previous"/> when nothing changes, else the next map at <c>previous.Epoch + 1</c>.</returns>
    /// <param name="shardBytes">How much data a shard holds: of the shards a member gives away, the smallest move first
    /// (a migration to a member that holds a replica still comes first: it copies nothing). Null: in shard order.</param>
    /// <param name="pinned">Shards an operator placed on a member (<c>akkacache shards move</c>): a pinned shard migrates to
    /// its member and is never chosen to even out the load; the balance is restored with other shards. A pin to a
    /// member that is not live or is leaving is ignored while it is.</param>
    public static ShardMap Rebalance(ShardMap previous, IReadOnlyList<ClusterMember> members, AllocationSettings settings,
        Func<string, int, long>? replicaOffset = null, IReadOnlySet<string>? leaving = null, Func<int, long>? shardBytes = null,
        IReadOnlyDictionary<int, string>? pinned = null)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegative(settings.ReplicaCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxShardsInFlight, 1);
        return new Planner(previous, members, settings, replicaOffset, leaving, shardBytes, pinned).Run();
    }

    /// <summary>
    /// The migration of <paramref name="shard"/> to <paramref name="target"/> finished (the target caught up): the
    /// target becomes the primary at a new epoch. The target leaves the replica list if it was on it, and the old
    /// primary takes the free replica slot (it has the data, so this moves nothing) when there is one and it is still a
    /// member and not leaving; otherwise it drops the shard. A stale report (the shard no longer migrates to
    /// <paramref name="target"/>, e.g. the migration was cancelled) returns <paramref name="map"/> unchanged.
    /// </summary>
    public static ShardMap CompleteMigration(ShardMap map, int shard, string target, IReadOnlySet<string>? leaving = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, map.ShardCount);

        var current = map.Shards[shard];
        if (current.MigratingTo != target) return map;

        var replicas = new List<string>(current.Replicas.Length + 1);
        foreach (var replica in current.Replicas)
            if (replica != target) replicas.Add(replica);

        var staying = 0;
        foreach (var member in map.Members)
            if (leaving is null || !leaving.Contains(member.Id)) staying++;
        if (staying == 0) staying = map.Members.Length; // everyone leaving: leaving is ignored, as in Rebalance
        var wanted = Math.Min(map.ReplicaCount, Math.Max(staying - 1, 0));

        var old = current.Primary;
        if (old is not null && old != target && map.Member(old) is not null && replicas.Count < wanted
            && !replicas.Contains(old) && (leaving is null || !leaving.Contains(old) || staying == map.Members.Length))
            replicas.Add(old);

        var shards = (ShardAssignment[])map.Shards.Clone();
        shards[shard] = new ShardAssignment { Primary = target, Replicas = [.. replicas] };
        return map with { Epoch = map.Epoch + 1, Shards = shards };
    }

    /// <summary>One run of <see cref="Rebalance"/>: members are indexes into <see cref="_members"/> (sorted by id).</summary>
    private sealed class Planner
    {
        private readonly ShardMap _previous;
        private readonly AllocationSettings _settings;
        private readonly Func<string, int, long>? _offset;
        private readonly ClusterMember[] _members;
        private readonly Dictionary<string, int> _index;
        private readonly bool[] _active; // live and not leaving: may receive shards
        private readonly int _activeCount;
        private readonly int[] _zone; // zone number, -1 when unlabelled
        private readonly int _shardCount;
        private readonly int _n;

        private readonly int[] _primary;
        private readonly int[] _target;
        private readonly Func<int, long>? _shardBytes;
        private readonly int _r; // replica slots per shard: the most any shard may want
        private readonly int[] _replicas; // _r slots per shard
        private readonly int[] _replicaCount;

        private readonly int[] _load; // primaries: owned and staying + migrating in
        private readonly int[] _quota;

        private readonly int[] _pin; // member index a shard is pinned to, -1 when none (or the member is not active)

        public Planner(ShardMap previous, IReadOnlyList<ClusterMember> members, AllocationSettings settings,
            Func<string, int, long>? offset, IReadOnlySet<string>? leaving, Func<int, long>? shardBytes, IReadOnlyDictionary<int, string>? pinned)
        {
            _previous = previous;
            _shardBytes = shardBytes;
            _settings = settings;
            _offset = offset;
            _members = [.. members];
            Array.Sort(_members, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
            _n = _members.Length;
            _index = new Dictionary<string, int>(_n, StringComparer.Ordinal);
            var zones = new Dictionary<string, int>(StringComparer.Ordinal);
            _zone = new int[_n];
            _active = new bool[_n];
            for (var i = 0; i < _n; i++)
            {
                var member = _members[i];
                ArgumentNullException.ThrowIfNull(member, nameof(members));
                if (!_index.TryAdd(member.Id, i))
                    throw new ArgumentException($"Member '{member.Id}' is listed twice.", nameof(members));
                if (member.Zone is null) _zone[i] = -1;
                else if (!zones.TryGetValue(member.Zone, out _zone[i])) zones.Add(member.Zone, _zone[i] = zones.Count);
                _active[i] = leaving is null || !leaving.Contains(member.Id);
                if (_active[i]) _activeCount++;
            }
            if (_activeCount == 0)
            {
                Array.Fill(_active, true);
                _activeCount = _n;
            }

            _shardCount = previous.ShardCount;
            _primary = new int[_shardCount];
            _target = new int[_shardCount];
            _r = Math.Min(settings.ReplicaCount, _activeCount);
            _replicas = new int[_shardCount * _r];
            _replicaCount = new int[_shardCount];
            _load = new int[_n];
            _quota = new int[_n];
            _pin = new int[_shardCount];
            Array.Fill(_pin, -1);
            if (pinned is not null)
                foreach (var (shard, member) in pinned)
                    if (shard >= 0 && shard < _shardCount && Live(member) is var i and >= 0 && _active[i]) _pin[shard] = i;
        }

        public ShardMap Run()
        {
            if (_n > 0)
            {
                ReadAndFailOver();
                SetQuotas(_load, _quota, _shardCount);
                AssignUnowned();
                StartPinnedMigrations();
                StartMigrations();
                PlaceReplicas();
            }
            else
            {
                Array.Fill(_primary, -1);
                Array.Fill(_target, -1);
            }
            return Build();
        }

        private int Live(string? id) => id is not null && _index.TryGetValue(id, out var i) ? i : -1;

        private int Owner(int shard) => _target[shard] >= 0 ? _target[shard] : _primary[shard];

        /// <summary>Primaries and targets from the previous map, minus the dead; dead primaries failed over.</summary>
        private void ReadAndFailOver()
        {
            List<int>? orphaned = null;
            for (var s = 0; s < _shardCount; s++)
            {
                var assignment = _previous.Shards[s];
                var p = Live(assignment.Primary);
                var t = Live(assignment.MigratingTo);
                if (t >= 0 && (!_active[t] || t == p || p < 0)) t = -1;
                _primary[s] = p;
                _target[s] = t;
                if (p >= 0) _load[Owner(s)]++;
                else (orphaned ??= []).Add(s);
            }

            if (orphaned is not null)
                foreach (var s in orphaned)
                {
                    var assignment = _previous.Shards[s];
                    if (assignment.Primary is null) continue; // never assigned: AssignUnowned
                    int best = -1;
                    long bestOffset = 0;
                    foreach (var id in assignment.Replicas)
                    {
                        var c = Live(id);
                        if (c < 0 || c == best) continue;
                        var offset = _offset?.Invoke(id, s) ?? 0;
                        if (best < 0 || offset > bestOffset || (offset == bestOffset && BetterPromotion(c, best)))
                        {
                            best = c;
                            bestOffset = offset;
                        }
                    }
                    if (best < 0)
                    {
                        var t = Live(assignment.MigratingTo);
                        if (t >= 0 && _active[t]) best = t;
                    }
                    if (best < 0) continue; // data lost: AssignUnowned
                    _primary[s] = best;
                    _load[best]++;
                }
        }

        private bool BetterPromotion(int c, int best)
        {
            if (_active[c] != _active[best]) return _active[c];
            if (_load[c] != _load[best]) return _load[c] < _load[best];
            return c < best;
        }

        /// <summary>Quota per active member: ⌊total/A⌋, plus one for the (total mod A) members holding most, then by id.</summary>
        private void SetQuotas(int[] load, int[] quota, int total)
        {
            var order = new List<int>(_activeCount);
            for (var i = 0; i < _n; i++)
                if (_active[i]) order.Add(i);
            order.Sort((a, b) => load[a] != load[b] ? load[b].CompareTo(load[a]) : a.CompareTo(b));
            Array.Clear(quota);
            var share = total / _activeCount;
            var extra = total % _activeCount;
            for (var k = 0; k < order.Count; k++) quota[order[k]] = share + (k < extra ? 1 : 0);
        }

        /// <summary>Shards nobody live holds go straight to the member furthest below its quota.</summary>
        private void AssignUnowned()
        {
            for (var s = 0; s < _shardCount; s++)
            {
                if (_primary[s] >= 0) continue;
                var best = -1;
                for (var i = 0; i < _n; i++)
                    if (_active[i] && (best < 0 || _quota[i] - _load[i] > _quota[best] - _load[best])) best = i;
                _primary[s] = best;
                _load[best]++;
            }
        }

        /// <summary>A pinned shard not on its member (and not moving) starts moving there, whatever the quotas say.</summary>
        private void StartPinnedMigrations()
        {
            for (var s = 0; s < _shardCount; s++)
            {
                var pin = _pin[s];
                if (pin < 0 || _primary[s] == pin || _target[s] >= 0) continue;
                _target[s] = pin;
                _load[_primary[s]]--;
                _load[pin]++;
            }
        }

        /// <summary>Members above quota migrate their excess to members below, round robin, within the in-flight limit.</summary>
        private void StartMigrations()
        {
            var budget = _settings.MaxShardsInFlight;
            for (var s = 0; s < _shardCount; s++)
                if (_target[s] >= 0) budget--;
            if (budget <= 0) return;

            var sources = new List<int>();
            for (var i = 0; i < _n; i++)
                if (_load[i] > _quota[i]) sources.Add(i);
            if (sources.Count == 0) return;
            sources.Sort((a, b) =>
            {
                if (_active[a] != _active[b]) return _active[a] ? 1 : -1; // leaving first
                var excess = (_load[b] - _quota[b]).CompareTo(_load[a] - _quota[a]);
                return excess != 0 ? excess : a.CompareTo(b);
            });

            // Replicas as they stand (even beyond the count now wanted), to prefer a target that already has the data.
            var kept = KeptReplicas(all: true);
            var movable = new List<int>[_n];
            foreach (var source in sources) movable[source] = [];
            for (var s = 0; s < _shardCount; s++)
                if (_target[s] < 0 && _pin[s] != _primary[s] && movable[_primary[s]] is { } list) list.Add(s);
            if (_shardBytes is { } bytes)
                foreach (var source in sources)
                    movable[source].Sort((a, b) => bytes(a) != bytes(b) ? bytes(a).CompareTo(bytes(b)) : a.CompareTo(b));

            while (budget > 0)
            {
                var started = false;
                foreach (var source in sources)
                {
                    if (_load[source] <= _quota[source] || movable[source].Count == 0) continue;
                    var (shard, target) = PickMove(movable[source], kept);
                    if (target < 0) return; // nobody below quota
                    _target[shard] = target;
                    _load[source]--;
                    _load[target]++;
                    started = true;
                    if (--budget == 0) return;
                }
                if (!started) return;
            }
        }

        /// <summary>
        /// The next shard of a source to move, and where: a shard with a replica holder below quota if any (it has the
        /// data), else the first one, to the member furthest below quota.
        /// </summary>
        private (int Shard, int Target) PickMove(List<int> movable, List<int>[] kept)
        {
            for (var k = 0; k < movable.Count; k++)
            {
                var s = movable[k];
                var best = -1;
                foreach (var c in kept[s])
                    if (_load[c] < _quota[c] && (best < 0 || _quota[c] - _load[c] > _quota[best] - _load[best])) best = c;
                if (best >= 0)
                {
                    movable.RemoveAt(k);
                    return (s, best);
                }
            }
            var shard = movable[0];
            var target = -1;
            for (var i = 0; i < _n; i++)
                if (_active[i] && _load[i] < _quota[i] && i != _primary[shard]
                    && (target < 0 || _quota[i] - _load[i] > _quota[target] - _load[target])) target = i;
            if (target >= 0) movable.RemoveAt(0);
            return (shard, target);
        }

        /// <summary>Replicas wanted for a shard: min(ReplicaCount, members not leaving other than its future primary).</summary>
        private int Desired(int s) => Math.Min(_settings.ReplicaCount, _activeCount - (_active[Owner(s)] ? 1 : 0));

        /// <summary>
        /// The previous replicas that may stay: live, not leaving, not the primary or target, no duplicates; at most
        /// <see cref="Desired"/> unless <paramref name="all"/>.
        /// </summary>
        private List<int>[] KeptReplicas(bool all)
        {
            var kept = new List<int>[_shardCount];
            for (var s = 0; s < _shardCount; s++)
            {
                var limit = all ? int.MaxValue : Desired(s);
                var list = kept[s] = new List<int>(Math.Min(limit, _previous.Shards[s].Replicas.Length));
                foreach (var id in _previous.Shards[s].Replicas)
                {
                    var c = Live(id);
                    if (c >= 0 && _active[c] && c != _primary[s] && c != _target[s] && !list.Contains(c) && list.Count < limit)
                        list.Add(c);
                }
            }
            return kept;
        }

        private void PlaceReplicas()
        {
            if (_r == 0) return;
            var load = new int[_n];
            var pairs = new int[_n * _n]; // pairs[owner * n + replica]: spreads a member's shards' replicas
            var wanted = new int[_shardCount];
            var total = 0;
            var kept = KeptReplicas(all: false);
            for (var s = 0; s < _shardCount; s++)
            {
                var owner = Owner(s);
                foreach (var c in kept[s])
                {
                    _replicas[s * _r + _replicaCount[s]++] = c;
                    load[c]++;
                    pairs[owner * _n + c]++;
                }
                // While migrating, the target holds a copy too: one slot may stay free for the old primary.
                var need = Desired(s) - (_target[s] >= 0 ? 1 : 0);
                var eligible = _activeCount - (_active[_primary[s]] ? 1 : 0) - (_target[s] >= 0 ? 1 : 0);
                wanted[s] = Math.Max(_replicaCount[s], Math.Min(need, eligible));
                total += wanted[s];
            }

            // Replica quotas: as even as the capacities allow (a member cannot back up the shards it owns or imports).
            var capacity = new int[_n];
            for (var s = 0; s < _shardCount; s++)
            {
                if (wanted[s] == 0) continue;
                for (var i = 0; i < _n; i++)
                    if (_active[i] && i != _primary[s] && i != _target[s]) capacity[i]++;
            }
            var level = WaterLevel(capacity, total, out var extra);
            var quota = new int[_n];
            for (var i = 0; i < _n; i++) quota[i] = Math.Min(capacity[i], level + (extra > 0 ? 1 : 0)); // while filling

            for (var s = 0; s < _shardCount; s++)
            {
                var owner = Owner(s);
                while (_replicaCount[s] < wanted[s])
                {
                    int best = -1, bestConflict = 0;
                    for (var c = 0; c < _n; c++)
                    {
                        if (!Eligible(s, c)) continue;
                        var conflict = Conflicts(s, c, -1);
                        if (best < 0 || BetterFill(c, conflict, best, bestConflict))
                        {
                            best = c;
                            bestConflict = conflict;
                        }
                    }
                    _replicas[s * _r + _replicaCount[s]++] = best;
                    load[best]++;
                    pairs[owner * _n + best]++;
                }

                bool BetterFill(int c, int conflict, int best, int bestConflict)
                {
                    if (conflict != bestConflict) return conflict < bestConflict;
                    bool overC = load[c] >= quota[c], overBest = load[best] >= quota[best];
                    if (overC != overBest) return !overC;
                    int pc = pairs[owner * _n + c], pb = pairs[owner * _n + best];
                    if (pc != pb) return pc < pb;
                    int dc = load[c] - quota[c], db = load[best] - quota[best];
                    return dc != db ? dc < db : c < best;
                }
            }

            // The extra replica slots go to the members holding most after the fill (then by id), so a balanced map
            // keeps its quotas and the next run has nothing to do.
            var order = new List<int>(_n);
            for (var i = 0; i < _n; i++)
            {
                quota[i] = Math.Min(capacity[i], level);
                if (capacity[i] > level) order.Add(i);
            }
            order.Sort((a, b) => load[a] != load[b] ? load[b].CompareTo(load[a]) : a.CompareTo(b));
            for (var k = 0; k < extra && k < order.Count; k++) quota[order[k]]++;

            // evening out replica counts while primaries still migrate would copy shards that later steps move again
            // (each replica move is a snapshot): replicas are balanced once the migrations are done
            if (Array.Exists(_target, t => t >= 0)) return;
            Repair(load, quota, pairs, keepZones: true);
            Repair(load, quota, pairs, keepZones: false);
            RepairByChains(load, quota, pairs);
        }

        /// <summary>
        /// The largest level L with Σ min(capacity, L) ≤ total; <paramref name="extra"/> = total − that sum, to be
        /// given one each to members whose capacity exceeds L (there are more of them than that).
        /// </summary>
        private static int WaterLevel(int[] capacity, int total, out int extra)
        {
            int low = 0, high = total;
            while (low < high)
            {
                var mid = (low + high + 1) / 2;
                if (Filled(mid) <= total) low = mid;
                else high = mid - 1;
            }
            extra = (int)(total - Filled(low));
            return low;

            long Filled(int level)
            {
                long sum = 0;
                foreach (var c in capacity) sum += Math.Min(c, level);
                return sum;
            }
        }

        /// <summary>Moves replicas from members above their replica quota to members below theirs.</summary>
        private void Repair(int[] load, int[] quota, int[] pairs, bool keepZones)
        {
            for (var m = 0; m < _n; m++)
            {
                if (load[m] <= quota[m]) continue;
                var held = new List<(int Shard, int Slot, int Conflict, int Pair)>();
                for (var s = 0; s < _shardCount; s++)
                    for (var k = 0; k < _replicaCount[s]; k++)
                        if (_replicas[s * _r + k] == m)
                            held.Add((s, k, Conflicts(s, m, m), pairs[Owner(s) * _n + m]));
                // Shed first the copies sharing a zone, then those of the owners m backs up most.
                held.Sort(static (a, b) => a.Conflict != b.Conflict ? b.Conflict.CompareTo(a.Conflict)
                    : a.Pair != b.Pair ? b.Pair.CompareTo(a.Pair) : a.Shard.CompareTo(b.Shard));

                foreach (var (s, slot, conflict, _) in held)
                {
                    if (load[m] <= quota[m]) break;
                    var owner = Owner(s);
                    int best = -1, bestConflict = 0;
                    for (var u = 0; u < _n; u++)
                    {
                        if (load[u] >= quota[u] || !Eligible(s, u)) continue;
                        var uc = Conflicts(s, u, m);
                        if (keepZones && uc > conflict) continue;
                        if (best < 0 || uc < bestConflict
                            || (uc == bestConflict && (pairs[owner * _n + u] < pairs[owner * _n + best]
                                || (pairs[owner * _n + u] == pairs[owner * _n + best]
                                    && (load[u] - quota[u] < load[best] - quota[best]
                                        || (load[u] - quota[u] == load[best] - quota[best] && u < best))))))
                        {
                            best = u;
                            bestConflict = uc;
                        }
                    }
                    if (best < 0) continue;
                    _replicas[s * _r + slot] = best;
                    load[m]--;
                    load[best]++;
                    pairs[owner * _n + m]--;
                    pairs[owner * _n + best]++;
                }
            }
        }

        /// <summary>
        /// What direct moves could not balance: a member above quota passes a replica along a chain of members
        /// (each handing one of its replicas to the next) to one below quota; found breadth first, shortest chain.
        /// </summary>
        private void RepairByChains(int[] load, int[] quota, int[] pairs)
        {
            var from = new int[_n];
            var via = new int[_n]; // the replica slot (shard * _r + k) handed from from[w] to w
            var queue = new Queue<int>();
            while (true)
            {
                Array.Fill(from, -2);
                queue.Clear();
                for (var i = 0; i < _n; i++)
                    if (load[i] > quota[i])
                    {
                        from[i] = -1;
                        queue.Enqueue(i);
                    }
                if (queue.Count == 0) return;

                var end = -1;
                while (end < 0 && queue.Count > 0)
                {
                    var v = queue.Dequeue();
                    for (var s = 0; s < _shardCount && end < 0; s++)
                        for (var k = 0; k < _replicaCount[s] && end < 0; k++)
                        {
                            if (_replicas[s * _r + k] != v) continue;
                            for (var w = 0; w < _n; w++)
                            {
                                if (from[w] != -2 || !Eligible(s, w)) continue;
                                from[w] = v;
                                via[w] = s * _r + k;
                                if (load[w] < quota[w])
                                {
                                    end = w;
                                    break;
                                }
                                queue.Enqueue(w);
                            }
                        }
                }
                if (end < 0) return; // nothing more can be balanced

                load[end]++;
                for (var w = end; from[w] >= 0; w = from[w])
                {
                    var slot = via[w];
                    var owner = Owner(slot / _r);
                    _replicas[slot] = w;
                    pairs[owner * _n + from[w]]--;
                    pairs[owner * _n + w]++;
                    if (from[from[w]] == -1) load[from[w]]--;
                }
            }
        }

        private bool Eligible(int s, int c)
        {
            if (!_active[c] || c == _primary[s] || c == _target[s]) return false;
            for (var k = 0; k < _replicaCount[s]; k++)
                if (_replicas[s * _r + k] == c) return false;
            return true;
        }

        /// <summary>
        /// How many other copies of shard <paramref name="s"/> (its future primary, its replicas other than
        /// <paramref name="except"/>) are in <paramref name="c"/>'s zone.
        /// </summary>
        private int Conflicts(int s, int c, int except)
        {
            var zone = _zone[c];
            if (zone < 0) return 0;
            var count = _zone[Owner(s)] == zone ? 1 : 0;
            for (var k = 0; k < _replicaCount[s]; k++)
            {
                var other = _replicas[s * _r + k];
                if (other != except && other != c && _zone[other] == zone) count++;
            }
            return count;
        }

        private ShardMap Build()
        {
            var holds = new bool[_n];
            for (var s = 0; s < _shardCount; s++)
                if (_primary[s] >= 0) holds[_primary[s]] = true; // targets and replicas are never leaving

            var members = new List<ClusterMember>(_n);
            for (var i = 0; i < _n; i++)
                if (_active[i] || holds[i]) members.Add(_members[i]);

            var changed = _previous.ReplicaCount != _settings.ReplicaCount
                || !_previous.Members.AsSpan().SequenceEqual(CollectionsMarshal.AsSpan(members));
            var shards = new ShardAssignment[_shardCount];
            for (var s = 0; s < _shardCount; s++)
            {
                var old = _previous.Shards[s];
                var primary = _primary[s] >= 0 ? _members[_primary[s]].Id : null;
                var target = _target[s] >= 0 ? _members[_target[s]].Id : null;
                var count = _replicaCount[s];
                var same = old.Primary == primary && old.MigratingTo == target && old.Replicas.Length == count;
                for (var k = 0; same && k < count; k++) same = old.Replicas[k] == _members[_replicas[s * _r + k]].Id;
                if (same)
                {
                    shards[s] = old;
                    continue;
                }
                changed = true;
                var replicas = new string[count];
                for (var k = 0; k < count; k++) replicas[k] = _members[_replicas[s * _r + k]].Id;
                shards[s] = new ShardAssignment { Primary = primary, Replicas = replicas, MigratingTo = target };
            }

            if (!changed) return _previous;
            return new ShardMap
            {
                Epoch = _previous.Epoch + 1,
                ReplicaCount = _settings.ReplicaCount,
                Members = [.. members],
                Shards = shards,
            };
        }
    }
}
