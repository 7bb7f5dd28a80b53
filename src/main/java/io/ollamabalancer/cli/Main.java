package io.ollamabalancer.cli;

/**
 * The entry point of the jar ({@code java -jar ollama-balancer.jar [command] [options]}). Runs {@link Cli} against
 * the real process and turns its result into the exit status; the only place that calls {@link System#exit}.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(Cli.run(args, CliContext.system()));
    }
}
