using System.Text;
using Runable.Box.Processes;

namespace Runable.Box.Tests.Processes;

public sealed class OutputSpoolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("spool-").FullName;

    [Fact]
    public void Read_WithinCapacity_ReturnsExactlyWhatWasWritten()
    {
        using var spool = new OutputSpool(_directory, "out", capacity: 1024);
        spool.Append("hello "u8);
        spool.Append("world"u8);
        var read = spool.Read(0, 100);
        Assert.Equal("hello world", Encoding.UTF8.GetString(read.Data.Span));
        Assert.Equal(0, read.Offset);
        Assert.Equal(0, read.Dropped);
        Assert.False(read.EndOfStream);
        Assert.Equal("world", Encoding.UTF8.GetString(spool.Read(6, 100).Data.Span));
    }

    [Fact]
    public void Append_PastCapacity_DropsTheOldestBytesAndReportsThem()
    {
        using var spool = new OutputSpool(_directory, "out", capacity: 100);
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i % 251)).ToArray();
        foreach (var chunk in data.Chunk(7))
        {
            spool.Append(chunk);
        }

        Assert.Equal(1000, spool.Length);
        Assert.InRange(spool.DroppedBytes, 900, 950);
        var read = spool.Read(0, 1000);
        Assert.Equal(spool.DroppedBytes, read.Offset);
        Assert.Equal(spool.DroppedBytes, read.Dropped);
        Assert.Equal(data[(int)read.Offset..], read.Data.ToArray());
        Assert.Equal(2, Directory.GetFiles(_directory).Length);
    }

    [Fact]
    public void NewSpool_CreatesNoFileUntilTheFirstByte()
    {
        var directory = Path.Combine(_directory, "lazy");
        using var spool = new OutputSpool(directory, "out", capacity: 1024);
        Assert.False(Directory.Exists(directory));
        Assert.True(spool.Read(0, 10).Data.IsEmpty);
        spool.Append("x"u8);
        Assert.Single(Directory.GetFiles(directory));
    }

    [Fact]
    public void Read_AcrossSegments_IsContiguous()
    {
        using var spool = new OutputSpool(_directory, "out", capacity: 64);
        var data = Encoding.ASCII.GetBytes("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#");
        spool.Append(data.AsSpan(0, 50));
        var read = spool.Read(10, 30);
        Assert.Equal(data.AsSpan(10, 30).ToArray(), read.Data.ToArray());
    }

    [Fact]
    public void Complete_MarksEndOfStreamOnlyWhenEverythingWasRead()
    {
        using var spool = new OutputSpool(_directory, "out", capacity: 1024);
        spool.Append("abc"u8);
        spool.Complete();
        spool.Append("ignored"u8);
        Assert.False(spool.Read(0, 2).EndOfStream);
        Assert.True(spool.Read(0, 3).EndOfStream);
        Assert.Equal(3, spool.Length);
    }

    [Fact]
    public async Task WaitForData_WakesOnAppendAndOnComplete()
    {
        using var spool = new OutputSpool(_directory, "out", capacity: 1024);
        var waiting = spool.WaitForDataAsync(0, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);
        spool.Append("x"u8);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        var more = spool.WaitForDataAsync(1, TestContext.Current.CancellationToken);
        Assert.False(more.IsCompleted);
        spool.Complete();
        await more.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
