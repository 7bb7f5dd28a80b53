package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code docker-compose.yaml} must give a balancer whose first curl works: it declares the model the README's curl
 * uses, waits for healthy Ollama services, and is itself healthy only through {@code /ready}. Read by indentation
 * (the file is plain block YAML), so no YAML library is needed.
 */
class ComposeFileTest {
    private static final Path COMPOSE = Path.of("docker-compose.yaml");

    /** Top-level service name → the lines of its block. */
    private static Map<String, List<String>> services() throws Exception {
        Map<String, List<String>> out = new LinkedHashMap<>();
        boolean inServices = false;
        List<String> current = null;
        for (String line : Files.readAllLines(COMPOSE)) {
            if (!line.isEmpty() && !line.startsWith(" ") && !line.startsWith("#")) {
                inServices = line.startsWith("services:");
                current = null;
                continue;
            }
            if (!inServices) {
                continue;
            }
            Matcher service = Pattern.compile("^ {2}([a-z0-9-]+):\\s*$").matcher(line);
            if (service.matches()) {
                current = new ArrayList<>();
                out.put(service.group(1), current);
            } else if (current != null) {
                current.add(line);
            }
        }
        return out;
    }

    @Test
    void theBalancerIsHealthyThroughReadyAndWaitsForHealthyOllamaServices() throws Exception {
        Map<String, List<String>> services = services();
        List<String> ollamas = services.keySet().stream().filter(s -> s.startsWith("ollama")).toList();
        assertThat(ollamas).hasSizeGreaterThanOrEqualTo(2);
        for (String o : ollamas) {
            assertThat(services.get(o)).as(o + " has a healthcheck").anyMatch(l -> l.equals("    healthcheck:"));
        }
        List<String> balancer = services.get("balancer");
        String text = String.join("\n", balancer);
        assertThat(text).contains("    healthcheck:").contains("/ready");
        for (String o : ollamas) {
            assertThat(text).as("depends on healthy " + o)
                    .containsPattern("(?m)^ {6}" + o + ":\\n {8}condition: service_healthy$");
        }
        assertThat(text).containsPattern("(?m)^ {6}ENSURE_MODELS: \\$\\{ENSURE_MODELS:-llama3\\.2:1b}$");
        // ...which is the model the README's first curl asks for.
        assertThat(Files.readString(Path.of("README.md"))).contains("\"model\":\"llama3.2:1b\"");
    }

    @Test
    void everyVariableTheComposeFileReadsIsDocumentedInEnvExample() throws Exception {
        String compose = Files.readString(COMPOSE).replace("$$", "");
        String env = Files.readString(Path.of(".env.example"));
        Matcher m = Pattern.compile("\\$\\{([A-Z_][A-Z0-9_]*)").matcher(compose);
        List<String> vars = new ArrayList<>();
        while (m.find()) {
            vars.add(m.group(1));
        }
        assertThat(vars).contains("ENSURE_MODELS");
        for (String v : vars) {
            assertThat(env).as(".env.example documents " + v).containsPattern("(?m)^#?" + v + "=");
        }
    }
}
