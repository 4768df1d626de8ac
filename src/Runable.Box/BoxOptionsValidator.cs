using Microsoft.Extensions.Options;

namespace Runable.Box;

/// <summary>Checks <see cref="BoxOptions"/> at start-up, so a bad setting stops the box with a message naming it.</summary>
[OptionsValidator]
public sealed partial class BoxOptionsValidator : IValidateOptions<BoxOptions>;
