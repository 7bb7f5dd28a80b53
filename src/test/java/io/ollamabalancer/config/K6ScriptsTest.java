package io.ollamabalancer.config;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The k6 scripts under {@code k6/} parse as the ES modules k6 loads (node's parser, {@code node --check} on an
 * {@code .mjs} copy), and {@code lib.js}'s model lookup matches names as Ollama does ({@code all-minilm} is
 * {@code all-minilm:latest}). k6 itself is not needed. Skipped, with the reason, where node is not installed.
 */
class K6ScriptsTest {
    private static final Path K6 = Path.of("k6");

    @BeforeAll
    static void needsNode() {
        boolean node;
        try {
            node = run(List.of("node", "--version"), Path.of(".")).exit == 0;
        } catch (IOException e) {
            node = false;
        }
        if (!node) {
            System.err.println("K6ScriptsTest skipped: node is not on PATH (it parses the k6 scripts)");
        }
        Assumptions.assumeTrue(node, "node is not on PATH: the k6 scripts' parse check is skipped");
    }

    @Test
    void everyScriptParsesAsAnEsModule(@TempDir Path tmp) throws Exception {
        List<Path> scripts;
        try (Stream<Path> s = Files.list(K6)) {
            scripts = s.filter(p -> p.toString().endsWith(".js")).sorted().toList();
        }
        assertThat(scripts).extracting(p -> p.getFileName().toString())
                .contains("lib.js", "generate-stream.js", "chat-mixed.js", "stream-ttft-cancel.js");
        for (Path script : scripts) {
            Path copy = tmp.resolve(script.getFileName().toString().replace(".js", ".mjs"));
            Files.copy(script, copy);
            Result r = run(List.of("node", "--check", copy.toString()), tmp);
            assertThat(r.exit).as("node --check %s:%n%s", script, r.output).isZero();
        }
    }

    @Test
    void everyScriptButTheLibraryHasThresholdsAndAModelCheck() throws Exception {
        try (Stream<Path> s = Files.list(K6)) {
            for (Path script : s.filter(p -> p.toString().endsWith(".js") && !p.endsWith("lib.js")).toList()) {
                String text = Files.readString(script, StandardCharsets.UTF_8);
                assertThat(text).as(script.toString()).contains("thresholds:").contains("requireModel(http, fail)");
                assertThat(Files.readString(K6.resolve("README.md"), StandardCharsets.UTF_8))
                        .as("k6/README.md describes %s", script.getFileName())
                        .contains("`" + script.getFileName() + "`");
            }
        }
    }

    @Test
    void whatTheScriptsImportFromTheLibraryItExports() throws Exception {
        String lib = Files.readString(K6.resolve("lib.js"), StandardCharsets.UTF_8);
        java.util.regex.Pattern imports = java.util.regex.Pattern.compile("import \\{([^}]*)\\} from './lib\\.js'");
        try (Stream<Path> s = Files.list(K6)) {
            for (Path script : s.filter(p -> p.toString().endsWith(".js") && !p.endsWith("lib.js")).toList()) {
                java.util.regex.Matcher m = imports.matcher(Files.readString(script, StandardCharsets.UTF_8));
                assertThat(m.find()).as("%s imports lib.js", script).isTrue();
                for (String name : m.group(1).split(",")) {
                    assertThat(lib).as("%s imports %s", script, name.strip())
                            .containsPattern("export (const|function) " + name.strip() + "\\b");
                }
            }
        }
    }

    @Test
    void theModelLookupDefaultsTheTagToLatestAsOllamaDoes(@TempDir Path tmp) throws Exception {
        Files.copy(K6.resolve("lib.js"), tmp.resolve("lib.mjs"));
        // lib.js reads k6's __ENV at load: give it an empty one, then call the lookup as the scripts' setup() does.
        String probe = "globalThis.__ENV = {};\n"
                + "const { findModel } = await import('./lib.mjs');\n"
                + "const names = ['all-minilm:latest', 'llama3.2:1b', 'registry.local:5000/team/qwen:7b',"
                + " 'registry.local:5000/team/tiny:latest'];\n"
                + "console.log(JSON.stringify([findModel(names, 'all-minilm'), findModel(names, 'All-MiniLM:latest'),"
                + " findModel(names, 'llama3.2:1b'), findModel(names, 'llama3.2') ?? null,"
                + " findModel(names, 'registry.local:5000/team/tiny') ?? null,"
                + " findModel(names, 'registry.local:5000/team/qwen') ?? null]));\n";
        Files.writeString(tmp.resolve("probe.mjs"), probe);
        Result r = run(List.of("node", "probe.mjs"), tmp);
        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output.strip()).isEqualTo("[\"all-minilm:latest\",\"all-minilm:latest\",\"llama3.2:1b\",null,"
                + "\"registry.local:5000/team/tiny:latest\",null]");
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> command, Path dir) throws IOException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(-1, "interrupted");
        }
    }
}
