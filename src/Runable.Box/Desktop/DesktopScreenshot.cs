namespace Runable.Box.Desktop;

/// <summary>A PNG of the desktop and how its pixels map back to the screen's.</summary>
/// <param name="Png">The PNG file.</param>
/// <param name="Width">The image's width.</param>
/// <param name="Height">The image's height.</param>
/// <param name="ScreenWidth">The screen's width: coordinates of actions are in screen pixels.</param>
/// <param name="ScreenHeight">The screen's height.</param>
public sealed record DesktopScreenshot(byte[] Png, int Width, int Height, int ScreenWidth, int ScreenHeight)
{
    /// <summary>Screen pixels per image pixel: multiply an image coordinate by it to get the screen coordinate.</summary>
    public double Scale => (double)ScreenWidth / Width;
}
