package io.ollamabalancer.cli;

import io.ollamabalancer.logging.Logs;

/**
 * The entry point of the jar ({@code java -jar ollama-balancer.jar [command] [options]}). Runs {@link Cli} against
 * the real process and turns its result into the exit status; the only place that calls {@link System#exit}.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        LeakDetectionDefault.apply();
        int status = Cli.run(args, CliContext.system());
        Logs.stop(); // the last queued log lines are written before the JVM exits
        System.exit(status);
    }
}
