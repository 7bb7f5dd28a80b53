package io.ollamabalancer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packages follow the data path and depend one way: no cycle among the main code's packages. Reads the
 * sources (imports and fully qualified names), so a cycle made through either fails here with its members named.
 */
class PackageDependenciesTest {
    private static final Path MAIN = Path.of("src/main/java/io/ollamabalancer");
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.ollamabalancer\\.([a-z]+)\\.[A-Z]");

    @Test
    void mainPackagesFormNoCycle() throws IOException {
        Map<String, Set<String>> edges = dependencies();
        assertThat(edges).as("sources found under " + MAIN.toAbsolutePath()).hasSizeGreaterThan(5);
        List<Set<String>> cycles = new ArrayList<>();
        for (Set<String> component : new Components(edges).strong()) {
            if (component.size() > 1) {
                cycles.add(component);
            }
        }
        assertThat(cycles).as("package cycles (each set depends on itself through its members); edges: " + edges)
                .isEmpty();
    }

    @Test
    void aCycleIsDetected() {
        Map<String, Set<String>> edges = new TreeMap<>();
        edges.put("a", Set.of("b"));
        edges.put("b", Set.of("c"));
        edges.put("c", Set.of("a", "d"));
        edges.put("d", Set.of());
        assertThat(new Components(edges).strong()).contains(new TreeSet<>(Set.of("a", "b", "c")), Set.of("d"));
    }

    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> edges = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                Path rel = MAIN.relativize(f);
                if (rel.getNameCount() < 2) {
                    continue; // the root package (Main-like entry points) may reach anything
                }
                String from = rel.getName(0).toString();
                Set<String> to = edges.computeIfAbsent(from, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(from)) {
                        to.add(m.group(1));
                    }
                }
            }
        }
        return edges;
    }

    /** Tarjan's strongly connected components over a small graph. */
    private static final class Components {
        private final Map<String, Set<String>> edges;
        private final Map<String, Integer> index = new HashMap<>();
        private final Map<String, Integer> low = new HashMap<>();
        private final Deque<String> stack = new ArrayDeque<>();
        private final Set<String> onStack = new TreeSet<>();
        private final List<Set<String>> found = new ArrayList<>();

        Components(Map<String, Set<String>> edges) {
            this.edges = edges;
        }

        List<Set<String>> strong() {
            for (String v : edges.keySet()) {
                if (!index.containsKey(v)) {
                    visit(v);
                }
            }
            return found;
        }

        private void visit(String v) {
            index.put(v, index.size());
            low.put(v, index.get(v));
            stack.push(v);
            onStack.add(v);
            for (String w : edges.getOrDefault(v, Set.of())) {
                if (!index.containsKey(w)) {
                    visit(w);
                    low.put(v, Math.min(low.get(v), low.get(w)));
                } else if (onStack.contains(w)) {
                    low.put(v, Math.min(low.get(v), index.get(w)));
                }
            }
            if (low.get(v).equals(index.get(v))) {
                Set<String> component = new TreeSet<>();
                String w;
                do {
                    w = stack.pop();
                    onStack.remove(w);
                    component.add(w);
                } while (!w.equals(v));
                found.add(component);
            }
        }
    }
}
