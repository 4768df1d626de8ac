using Microsoft.AspNetCore.Http.Metadata;

namespace Runable.Box.Server.Hosting;

/// <summary>Endpoint metadata capping a route's request body; Kestrel answers 413 past it.</summary>
/// <param name="MaxRequestBodySize">The most bytes the route accepts.</param>
public sealed record BodySizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
