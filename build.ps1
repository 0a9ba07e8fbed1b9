# Windows mirror of build.sh: build, or build and test. Test dependencies (redis-cli) must be on PATH.
param([ValidateSet("build", "test")][string]$Target = "build")
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
dotnet build AkkaCache.sln -c Release
if ($Target -eq "test") { dotnet test AkkaCache.sln -c Release --no-build --blame-hang-timeout 10m }
