package io.ollamabalancer.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The top command, {@code ollama-balancer}: holds {@code --help}, {@code --version} and the subcommands (added by
 * {@link Cli}). Run without a command it serves, as the jar always did. Runs on the calling thread.
 */
@Command(name = Cli.NAME, mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        synopsisSubcommandLabel = "[COMMAND]",
        description = {
            "A layer-7 reverse proxy that makes a fleet of Ollama servers look like one, faster.",
            "Without a command (or with only options), runs 'serve'."
        })
final class BalancerCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        return spec.commandLine().getSubcommands().get(Cli.SERVE).execute();
    }
}
