package io.ollamabalancer.cli;

import io.ollamabalancer.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.List;
import java.util.Set;

/**
 * Assembles the command line (the top command, its subcommands, error handling) and runs it. Exit statuses:
 * 0 done, 1 unexpected failure, 2 a usage or configuration mistake. Every mistake prints exactly one line,
 * {@code ollama-balancer: <message>}, on stderr; no stack traces for the operator's own errors.
 * Not thread-safe; one command line per run.
 */
public final class Cli {
    static final String NAME = "ollama-balancer";
    static final String SERVE = "serve";
    static final int EXIT_USAGE = 2;
    static final int EXIT_FAILURE = 1;

    private static final Logger log = LoggerFactory.getLogger(Cli.class);
    private static final Set<String> TOP_LEVEL_OPTIONS = Set.of("-h", "--help", "-V", "--version");

    private Cli() {
    }

    /** Runs against the real process, printing to stdout and stderr. */
    public static int run(String[] args, CliContext context) {
        // The terminal's own encoding, deliberately: this is text for a person at a console.
        Charset console = Charset.defaultCharset();
        return run(args, context, Launcher.SERVER, new PrintWriter(new OutputStreamWriter(System.out, console), true),
                new PrintWriter(new OutputStreamWriter(System.err, console), true));
    }

    static int run(String[] args, CliContext context, Launcher launcher, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine(context, launcher);
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(withDefaultCommand(args));
    }

    static CommandLine commandLine(CliContext context, Launcher launcher) {
        CommandLine cl = new CommandLine(new BalancerCommand());
        CommandLine serve = new CommandLine(new ServeCommand(context, launcher));
        SettingOptions.addTo(serve.getCommandSpec());
        CommandLine check = new CommandLine(new CheckConfigCommand(context));
        SettingOptions.addTo(check.getCommandSpec());
        cl.addSubcommand(SERVE, serve);
        cl.addSubcommand("check-config", check);
        cl.addSubcommand("demo", new CommandLine(new DemoCommand(launcher)));
        cl.addSubcommand("simulate", new CommandLine(new SimulateCommand()));
        cl.addSubcommand("loadgen", new CommandLine(new LoadgenCommand()));
        cl.addSubcommand("replay", new CommandLine(new ReplayCommand()));
        cl.setParameterExceptionHandler(Cli::usageError);
        cl.setExecutionExceptionHandler(Cli::failure);
        return cl;
    }

    /** {@code serve} is the default: no arguments, or options first, mean {@code serve [options]}. */
    static String[] withDefaultCommand(String[] args) {
        if (args.length == 0) {
            return new String[] {SERVE};
        }
        if (args[0].startsWith("-") && !TOP_LEVEL_OPTIONS.contains(args[0])) {
            String[] out = new String[args.length + 1];
            out[0] = SERVE;
            System.arraycopy(args, 0, out, 1, args.length);
            return out;
        }
        return args;
    }

    private static int usageError(ParameterException e, String[] args) {
        String message = oneLine(e.getMessage());
        if (e instanceof UnmatchedArgumentException u) {
            List<String> suggestions = u.getSuggestions();
            if (!suggestions.isEmpty()) {
                message += " (did you mean " + String.join(" or ", suggestions) + "?)";
            }
        }
        String command = e.getCommandLine().getCommandSpec().qualifiedName();
        printError(e.getCommandLine(), message + " (see '" + command + " --help')");
        return EXIT_USAGE;
    }

    private static int failure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        if (e instanceof ConfigException) {
            printError(cl, e.getMessage());
            return EXIT_USAGE;
        }
        log.debug("command failed", e);
        String text = e.getMessage() == null ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + oneLine(e.getMessage());
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !text.contains(cause.getMessage())) {
            text += " (" + oneLine(cause.getMessage()) + ")";
        }
        printError(cl, text);
        return EXIT_FAILURE;
    }

    private static void printError(CommandLine cl, String message) {
        PrintWriter err = cl.getErr();
        err.println(NAME + ": " + message);
        err.flush();
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
