using System.Text;

namespace Runable.Box.Processes;

/// <summary>Keeps the last few kilobytes a helper program (a kernel, Jupyter, the X server) printed, for error messages.</summary>
internal sealed class TailSink : IOutputSink
{
    private const int Limit = 4096;
    private readonly StringBuilder _text = new();

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_text)
        {
            _text.Append(Utf8Text.Decode(data));
            if (_text.Length > Limit)
            {
                _text.Remove(0, _text.Length - Limit);
            }
        }
    }

    public void Complete()
    {
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
