using AkkaCache.Core.Eviction;

namespace AkkaCache.Core.Tests.Eviction;

public sealed class FrequencySketchTests
{
    [Fact]
    public void Counts_saturate_at_15_and_halve_after_the_sample()
    {
        var sketch = new FrequencySketch(64, samplesPerEntry: 5);
        Assert.Equal(64, sketch.Capacity);
        Assert.Equal(320, sketch.SampleSize);
        for (int i = 0; i < 20; i++)
        {
            sketch.Increment(1);
        }

        Assert.Equal(15, sketch.Frequency(1));
        Assert.Equal(0, sketch.Frequency(2));

        // Other keys push the sample over: everything is halved.
        int before = sketch.Size;
        for (uint key = 100; sketch.Size >= before; key++)
        {
            before = sketch.Size;
            sketch.Increment(key);
        }

        Assert.InRange(sketch.Frequency(1), 7, 8);
    }

    [Fact]
    public void Growing_keeps_the_estimates()
    {
        var sketch = new FrequencySketch(64);
        var expected = new Dictionary<uint, int>();
        for (uint key = 0; key < 40; key++)
        {
            for (int i = 0; i < key % 9; i++)
            {
                sketch.Increment(key);
            }

            expected[key] = sketch.Frequency(key);
        }

        sketch.EnsureCapacity(10_000);
        Assert.Equal(16_384, sketch.Capacity);
        foreach (var (key, frequency) in expected)
        {
            Assert.Equal(frequency, sketch.Frequency(key));
        }
    }

    [Fact]
    public void Estimates_are_close_for_distinct_keys()
    {
        var sketch = new FrequencySketch(1024, samplesPerEntry: 100);
        for (uint key = 0; key < 1000; key++)
        {
            for (int i = 0; i < (int)(key % 5); i++)
            {
                sketch.Increment(key * 2654435761u);
            }
        }

        int exact = 0;
        for (uint key = 0; key < 1000; key++)
        {
            int estimate = sketch.Frequency(key * 2654435761u);
            Assert.True(estimate >= (int)(key % 5)); // count-min never underestimates (before aging)
            exact += estimate == (int)(key % 5) ? 1 : 0;
        }

        Assert.True(exact > 950, $"{exact} exact estimates");
    }
}
