package io.ollamabalancer.cli;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.Durations;
import io.ollamabalancer.loadgen.BodyTemplate;
import io.ollamabalancer.loadgen.LoadGenerator;
import io.ollamabalancer.loadgen.LoadReport;
import io.ollamabalancer.loadgen.LoadgenConfig;
import io.ollamabalancer.loadgen.ReportJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import io.ollamabalancer.tls.TlsContexts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code loadgen}: opens N concurrent connections that stream Ollama requests, and prints a JSON summary (time to
 * first token, per-chunk delivery delay, inter-chunk gaps, totals, errors) on stdout or into a file, plus one line
 * for people on stderr. Parsing only; {@link LoadGenerator} does the work. Runs on the main thread, which waits.
 */
@Command(name = "loadgen", mixinStandardHelpOptions = true, sortOptions = false,
        versionProvider = VersionProvider.class,
        description = {
            "Stream Ollama requests over many concurrent connections and report latencies as JSON.",
            "The per-chunk delay is arrival time minus the chunk's created_at, so run it on the backends' machine."
        })
final class LoadgenCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--target", paramLabel = "URL", split = ",", required = true,
            description = "base URL(s); connection i uses target i mod count, e.g. http://127.0.0.1:3000")
    List<String> targets = new ArrayList<>();

    @Option(names = "--path", paramLabel = "PATH", description = "request path (default /api/generate)")
    String path = "/api/generate";

    @Option(names = "--body", paramLabel = "JSON",
            description = "request body; {{i}} becomes the request number (default: a streaming generate, num_predict 100)")
    String body;

    @Option(names = "--body-file", paramLabel = "FILE", description = "read the request body from a file")
    Path bodyFile;

    @Option(names = {"-c", "--connections"}, paramLabel = "N", description = "concurrent connections (default 10)")
    int connections = 10;

    @Option(names = {"-n", "--requests"}, paramLabel = "N",
            description = "measured requests per connection; 0 = until --duration ends (default 1, or 0 with"
                    + " --duration)")
    Integer requests;

    @Option(names = "--warmup", paramLabel = "N", description = "unmeasured requests per connection first (default 0)")
    int warmup;

    @Option(names = {"-d", "--duration"}, paramLabel = "DURATION",
            description = "stop starting requests after this long, e.g. 30s (default: none)")
    String duration = "0";

    @Option(names = "--ramp-up", paramLabel = "DURATION", description = "spread connection starts over this time")
    String rampUp = "0";

    @Option(names = "--timeout", paramLabel = "DURATION", description = "per-request limit (default 60s)")
    String timeout = "60s";

    @Option(names = "--threads", paramLabel = "N", description = "event-loop threads (default: the CPU count)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "write the JSON here instead of stdout")
    Path out;

    @Option(names = "--ca", paramLabel = "FILE",
            description = "trust these CA certificates (PEM) for https:// targets (default: the system's)")
    Path ca;

    @Override
    public Integer call() throws Exception {
        LoadgenConfig config = config();
        boolean https = config.targets().stream().anyMatch(t -> "https".equalsIgnoreCase(t.getScheme()));
        LoadReport report = LoadGenerator.run(config, https ? TlsContexts.backends(ca) : null);
        if (out != null) {
            try (OutputStream os = Files.newOutputStream(out)) {
                ReportJson.write(report, os);
            } catch (IOException e) {
                throw new ConfigException(out + ": cannot write: " + e.getMessage());
            }
        } else {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            ReportJson.write(report, buf);
            spec.commandLine().getOut().print(buf.toString(StandardCharsets.UTF_8));
            spec.commandLine().getOut().flush();
        }
        spec.commandLine().getErr().println("loadgen: " + report.oneLine());
        spec.commandLine().getErr().flush();
        return 0;
    }

    /** The run the options describe. */
    LoadgenConfig config() {
        if (body != null && bodyFile != null) {
            throw new ConfigException("loadgen: give --body or --body-file, not both");
        }
        String text = body != null ? body : BodyTemplate.DEFAULT;
        if (bodyFile != null) {
            try {
                text = Files.readString(bodyFile);
            } catch (IOException e) {
                throw new ConfigException(bodyFile + ": cannot read: " + e.getMessage());
            }
        }
        List<URI> uris = new ArrayList<>();
        for (String t : targets) {
            try {
                uris.add(URI.create(t.strip()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("loadgen: not a URL: " + t);
            }
        }
        Duration d = Durations.parse(duration);
        try {
            int perConnection = requests != null ? requests : d.isZero() ? 1 : 0;
            return new LoadgenConfig(uris, path, BodyTemplate.of(text), connections, perConnection, warmup, d,
                    Durations.parse(rampUp), Durations.parse(timeout), threads);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("loadgen: " + e.getMessage());
        }
    }
}
