package io.ollamabalancer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Secrets (the admin token, API keys and their digests) are compared in constant time. A timing test cannot show it
 * on a shared machine, so the sources are read instead: the two places that check a presented secret go through
 * {@code MessageDigest.isEqual}, and no main source compares a token, secret, bearer value or digest with
 * {@code equals}, {@code compareTo} or {@code ==} (null checks aside).
 */
class SecretComparisonTest {
    private static final Path MAIN = Path.of("src/main/java/io/ollamabalancer");
    static final Pattern PLAIN_COMPARISON = Pattern.compile("(?i)\\b(adminToken|token|secret|bearer|presented|digest)"
            + "\\b(\\(\\))?\\s*(\\.equals\\w*\\(|\\.contentEquals\\(|\\.compareTo\\(|==(?!\\s*null)|!=(?!\\s*null))");

    @Test
    void theSecretChecksUseAConstantTimeComparison() throws IOException {
        for (String file : List.of("server/BalancerEndpoints.java", "auth/ApiKeys.java")) {
            assertThat(Files.readString(MAIN.resolve(file))).as(file).contains("MessageDigest.isEqual(");
        }
    }

    @Test
    void noSecretIsComparedWithAnOrdinaryComparison() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (PLAIN_COMPARISON.matcher(lines.get(i)).find()) {
                        found.add(MAIN.relativize(f) + ":" + (i + 1) + ": " + lines.get(i).trim());
                    }
                }
            }
        }
        assertThat(found).as("secrets compared in variable time").isEmpty();
    }

    @Test
    void thePatternCatchesTheComparisonsItIsMeantFor() {
        assertThat(PLAIN_COMPARISON.matcher("if (adminToken.equals(given)) {").find()).isTrue();
        assertThat(PLAIN_COMPARISON.matcher("boolean same = digest == other;").find()).isTrue();
        assertThat(PLAIN_COMPARISON.matcher("if (bearer.compareTo(stored) == 0)").find()).isTrue();
        assertThat(PLAIN_COMPARISON.matcher("if (token != null && token.isEmpty())").find()).isFalse();
        assertThat(PLAIN_COMPARISON.matcher("while (p.nextToken() == JsonToken.FIELD_NAME)").find()).isFalse();
    }
}
