namespace Runable.Orchestrator.Models;

/// <summary>A model setting is missing or wrong; the message names the setting to fix.</summary>
public class ModelConfigurationException(string message) : Exception(message);
