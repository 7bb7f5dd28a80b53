package io.ollamabalancer.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.testing.TestFleet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The official JavaScript clients (ollama-js and the OpenAI SDK on {@code /v1}), unchanged, through the balancer:
 * runs {@code clients/js/clients.test.mjs} with node's test runner against two simulators behind a balancer.
 * Skipped when node or npm is missing, or when the client packages cannot be installed because the package registry
 * is unreachable; a failing JavaScript check fails this test and prints node's output.
 */
class JsClientsIT {
    private static final String MODEL = "llama3.2:1b";
    private static final String EMBEDDER = "all-minilm";
    /** An alias of MODEL declared in the backends file. */
    private static final String ALIAS = "chat";
    /** What the JavaScript check creates from a blob it uploads to the second backend, "b". */
    private static final String CREATED = "js-made:1b";
    /** What the JavaScript check pulls: in the simulators' registry, on neither backend. */
    private static final String PULLED = "qwen2.5:0.5b";
    private static final int EMBED_DIMS = 16;
    private static final Path PROJECT = Path.of("clients", "js").toAbsolutePath();
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(60);
    /** What npm prints when it cannot reach the registry, as opposed to a broken lockfile or package. */
    private static final Pattern UNREACHABLE = Pattern.compile(
            "ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network|socket hang up");

    private static final List<SimModel> MODELS = List.of(
            SimModel.completion(MODEL, 1_300_000_000L, "llama", "1.2B", "Q8_0", true),
            SimModel.embedding(EMBEDDER, 45_000_000L, "bert", "23M", "F16", EMBED_DIMS, true));

    /** Two simulators behind a balancer. */
    private static TestFleet startFleet() throws InterruptedException {
        // A mean far above the cap makes nearly every answer the full 40 tokens, 400 ms at this rate: long enough
        // for the abort checks to cut a stream the backend is really still sending, even on a busy machine, and
        // short enough to keep the whole run within seconds.
        TestFleet fleet = new TestFleet()
                .sim("a", b -> b.models(MODELS).meanOutputTokens(2_000).maxOutputTokens(40).decodeTokensPerSecond(100))
                .sim("b", b -> b.models(MODELS).meanOutputTokens(2_000).maxOutputTokens(40).decodeTokensPerSecond(100));
        // The object form of the backends file, declaring an alias of MODEL for the alias checks.
        StringBuilder entries = new StringBuilder();
        for (BackendConfig b : fleet.backends()) {
            entries.append(entries.length() == 0 ? "" : ",").append("{\"name\":\"").append(b.name())
                    .append("\",\"url\":\"").append(b.url()).append("\",\"maxConcurrency\":").append(b.maxConcurrency())
                    .append('}');
        }
        try {
            Path file = Files.createTempFile("js-backends", ".json");
            file.toFile().deleteOnExit();
            Files.writeString(file, "{\"ensureModels\":[\"" + MODEL + "\"],\"aliases\":{\"" + ALIAS + "\":\"" + MODEL
                    + "\"},\"backends\":[" + entries + "]}");
            return fleet.start(b -> b.backendsFile(file));
        } catch (IOException e) {
            fleet.close();
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void officialJavaScriptClientsWorkUnchanged() throws Exception {
        // Assumptions here rather than in @BeforeAll, so that a skip is reported with its reason.
        skipUnless(onPath("node"), "node is not on PATH: JavaScript client checks skipped");
        skipUnless(onPath("npm"), "npm is not on PATH: JavaScript client checks skipped");
        installIfNeeded();
        try (TestFleet fleet = startFleet()) {
            checkClients(fleet);
        }
    }

    private static void checkClients(TestFleet fleet) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=tap").directory(PROJECT.toFile());
        Map<String, String> env = pb.environment();
        env.put("BALANCER_URL", fleet.url());
        env.put("COMPLETION_MODEL", MODEL);
        env.put("EMBEDDING_MODEL", EMBEDDER);
        env.put("EMBEDDING_DIMS", Integer.toString(EMBED_DIMS));
        env.put("BLOB_BACKEND", "b");
        env.put("CREATED_MODEL", CREATED);
        env.put("ALIAS_MODEL", ALIAS);
        env.put("PULLED_MODEL", PULLED);
        env.put("NO_COLOR", "1");
        // The SDKs must talk to the balancer on loopback directly, whatever the caller's environment says.
        for (String k : List.of("OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST", "NODE_OPTIONS",
                "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NODE_USE_ENV_PROXY")) {
            env.remove(k);
        }
        Run node = run(pb, NODE_TIMEOUT);

        assertThat(node.timedOut).as("node --test timed out after %s; output:%n%s", NODE_TIMEOUT, node.output)
                .isFalse();
        assertThat(node.exitCode).as("node --test failed; output:%n%s", node.output).isZero();
        assertThat(node.output).as("node ran the client checks; output:%n%s", node.output)
                .containsPattern("(?m)^# pass [1-9]").containsPattern("(?m)^# fail 0$");

        // pull() reached both backends.
        assertThat(fleet.sim(0).hasModel(PULLED) && fleet.sim(1).hasModel(PULLED)).as("pulled everywhere").isTrue();

        // create() followed the blob to "b", though "a" comes first.
        assertThat(fleet.sim(1).hasModel(CREATED)).as("the model was made where the blob is").isTrue();
        assertThat(fleet.sim(0).hasModel(CREATED)).isFalse();

        // The aborted streams must have reached the backends as cancellations, freeing their slots.
        long cancelled = fleet.sim(0).counters().cancelled() + fleet.sim(1).counters().cancelled();
        assertThat(cancelled).as("client aborts propagated to the backends").isGreaterThanOrEqualTo(3);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (int i = 0; i < 2; i++) {
                OllamaSimulator sim = fleet.sim(i);
                assertThat(sim.counters().activeGenerations()).as("%s active generations", sim).isZero();
            }
        });
    }

    /** Installs the pinned client packages from the committed lockfile unless they are already there. */
    private static void installIfNeeded() throws Exception {
        if (installed()) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(PROJECT.toFile());
        Run npm = run(pb, INSTALL_TIMEOUT);
        skipUnless(!npm.timedOut, "npm ci timed out after " + INSTALL_TIMEOUT
                + " (package registry unreachable?): JavaScript client checks skipped\n" + npm.output);
        skipUnless(npm.exitCode == 0 || !UNREACHABLE.matcher(npm.output).find(),
                "npm ci could not reach the package registry: JavaScript client checks skipped\n" + npm.output);
        assertThat(npm.exitCode).as("npm ci failed in %s; output:%n%s", PROJECT, npm.output).isZero();
        assertThat(installed()).as("npm ci installed the pinned client versions").isTrue();
    }

    /** Whether every dependency pinned in package.json is installed at exactly that version. */
    private static boolean installed() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode pinned = json.readTree(PROJECT.resolve("package.json").toFile()).path("dependencies");
        assertThat(pinned.size()).as("package.json pins the clients").isPositive();
        for (Map.Entry<String, JsonNode> dep : (Iterable<Map.Entry<String, JsonNode>>) pinned::fields) {
            Path manifest = PROJECT.resolve("node_modules").resolve(dep.getKey()).resolve("package.json");
            if (!Files.isRegularFile(manifest)
                    || !json.readTree(manifest.toFile()).path("version").asText().equals(dep.getValue().asText())) {
                return false;
            }
        }
        return true;
    }

    /** A skipped check says why on the console too: surefire keeps assumption messages only in its reports. */
    private static void skipUnless(boolean condition, String reason) {
        if (!condition) {
            System.err.println("JsClientsIT skipped: " + reason);
        }
        Assumptions.assumeTrue(condition, reason);
    }

    private static boolean onPath(String command) {
        try {
            return run(new ProcessBuilder(command, "--version"), Duration.ofSeconds(20)).exitCode == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs a process to completion (or kills it at the timeout), its stdout and stderr merged. */
    private static Run run(ProcessBuilder pb, Duration timeout) throws IOException, InterruptedException {
        Path out = Files.createTempFile("jsclients-" + pb.command().get(0).toLowerCase(Locale.ROOT), ".log");
        try {
            Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            return new Run(finished ? p.exitValue() : -1, !finished, output);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private record Run(int exitCode, boolean timedOut, String output) {
    }
}
