using Runable.Cli.Commands;

return await CliApplication.RunAsync(args);
