package io.ollamabalancer.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
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

/**
 * The JavaScript client checks in {@code clients/js}: makes sure node, npm and the pinned client packages are there
 * (skipping the calling test, with its reason on the console, when node or npm is missing or the package registry
 * cannot be reached), then runs one test file with node's test runner and asserts that it passed. Stateless; each
 * call blocks the calling test thread while its process runs.
 */
public final class NodeClients {
    private static final Path PROJECT = Path.of("clients", "js").toAbsolutePath();
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(60);
    /** What npm prints when it cannot reach the registry, as opposed to a broken lockfile or package. */
    private static final Pattern UNREACHABLE = Pattern.compile(
            "ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network|socket hang up");
    /** Variables that would point the SDKs elsewhere than the balancer on loopback, or give them a key of their own. */
    private static final List<String> CLEARED = List.of("OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST",
            "OLLAMA_API_KEY", "NODE_OPTIONS", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
            "NODE_USE_ENV_PROXY");

    private NodeClients() {
    }

    /** Skips the calling test unless node and npm are on PATH and the pinned clients are (or can be) installed. */
    public static void assumeReady(String caller) throws IOException, InterruptedException {
        skipUnless(onPath("node"), caller, "node is not on PATH: JavaScript client checks skipped");
        skipUnless(onPath("npm"), caller, "npm is not on PATH: JavaScript client checks skipped");
        if (installed()) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(PROJECT.toFile());
        Run npm = run(pb, INSTALL_TIMEOUT);
        skipUnless(!npm.timedOut, caller, "npm ci timed out after " + INSTALL_TIMEOUT
                + " (package registry unreachable?): JavaScript client checks skipped\n" + npm.output);
        skipUnless(npm.exitCode == 0 || !UNREACHABLE.matcher(npm.output).find(), caller,
                "npm ci could not reach the package registry: JavaScript client checks skipped\n" + npm.output);
        assertThat(npm.exitCode).as("npm ci failed in %s; output:%n%s", PROJECT, npm.output).isZero();
        assertThat(installed()).as("npm ci installed the pinned client versions").isTrue();
    }

    /**
     * Runs {@code file} (in {@code clients/js}) with node's test runner and the given environment, and asserts that
     * it finished in time, ran at least one test and failed none; the assertion messages carry node's output.
     */
    public static void assertPasses(String file, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=tap", file)
                .directory(PROJECT.toFile());
        Map<String, String> vars = pb.environment();
        CLEARED.forEach(vars::remove);
        vars.put("NO_COLOR", "1");
        vars.putAll(env);
        Run node = run(pb, NODE_TIMEOUT);
        assertThat(node.timedOut).as("node --test timed out after %s; output:%n%s", NODE_TIMEOUT, node.output)
                .isFalse();
        assertThat(node.exitCode).as("node --test failed; output:%n%s", node.output).isZero();
        assertThat(node.output).as("node ran the client checks; output:%n%s", node.output)
                .containsPattern("(?m)^# pass [1-9]").containsPattern("(?m)^# fail 0$")
                .containsPattern("(?m)^# skipped 0$");
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
    private static void skipUnless(boolean condition, String caller, String reason) {
        if (!condition) {
            System.err.println(caller + " skipped: " + reason);
        }
        Assumptions.assumeTrue(condition, reason);
    }

    private static boolean onPath(String command) throws InterruptedException {
        try {
            return run(new ProcessBuilder(command, "--version"), Duration.ofSeconds(20)).exitCode == 0;
        } catch (IOException e) {
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
