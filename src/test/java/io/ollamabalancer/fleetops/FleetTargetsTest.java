package io.ollamabalancer.fleetops;

import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Where pull, delete, copy and create go. */
class FleetTargetsTest {
    private final Fleet fleet = new Fleet(List.of(backend("a"), backend("b"), backend("c")));
    private final FleetTargets targets = new FleetTargets(fleet);

    private static BackendConfig backend(String name) {
        return new BackendConfig(name, URI.create("http://127.0.0.1:1"), 1, null, true);
    }

    private static OperationFields fields(String json) {
        return OperationFields.read(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String names(FleetTargets.Choice c) {
        if (c == null) {
            return "none";
        }
        if (c.backends().isEmpty()) {
            return c.status() + " " + c.error();
        }
        StringBuilder sb = new StringBuilder();
        c.backends().forEach(b -> sb.append(sb.length() == 0 ? "" : ",").append(b.name()));
        return sb.toString();
    }

    @Test
    void aPullGoesToEveryAvailableBackendOrToTheNamedSubset() {
        OperationFields pull = fields("{\"model\":\"m\"}");
        assertThat(names(FleetPull.targets(targets, null, pull))).isEqualTo("a,b,c");
        assertThat(names(FleetPull.targets(targets, " c, a ,c", pull))).isEqualTo("c,a");
        assertThat(names(FleetPull.targets(targets, "a,zeta", pull))).isEqualTo("400 unknown backend 'zeta'");
        fleet.byName("b").draining(true);
        assertThat(names(FleetPull.targets(targets, null, pull))).isEqualTo("a,c");
        assertThat(names(FleetPull.targets(targets, null, fields("{}")))).as("Ollama's 400 from one backend")
                .isEqualTo("a");
    }

    @Test
    void deleteCopyAndCreateGoToTheHoldersOfTheirModel() {
        fleet.byName("b").updateInstalled(Set.of("m:latest"));
        fleet.byName("c").updateInstalled(Set.of("m:latest"));
        assertThat(names(FleetDelete.targets(targets, null, fields("{\"name\":\"m\"}")))).isEqualTo("b,c");
        assertThat(names(FleetDelete.targets(targets, null, fields("{\"name\":\"other\"}"))))
                .as("nobody is known to have it: everyone answers for themselves").isEqualTo("a,b,c");
        assertThat(names(FleetCopy.targets(targets, null, fields("{\"source\":\"M\",\"destination\":\"x\"}"))))
                .isEqualTo("b,c");
        assertThat(names(FleetCreate.targets(targets, null, fields("{\"model\":\"x\",\"from\":\"m\"}"))))
                .isEqualTo("b,c");
        assertThat(names(FleetCreate.targets(targets, null, fields("{\"model\":\"x\",\"from\":\"unknown\"}"))))
                .as("Ollama would pull the base: one backend, as before").isEqualTo("none");
        assertThat(names(FleetCreate.targets(targets, null,
                fields("{\"model\":\"x\",\"from\":\"m\",\"files\":{\"a.gguf\":\"sha256:1\"}}")))).isEqualTo("none");
        fleet.byName("a").draining(true);
        fleet.byName("b").draining(true);
        fleet.byName("c").draining(true);
        assertThat(names(FleetPull.targets(targets, null, fields("{\"model\":\"m\"}"))))
                .isEqualTo("503 no healthy backend available");
    }

    @Test
    void aPullToTheDefaultTargetsMissesTheUnavailableBackends() {
        OperationFields pull = fields("{\"model\":\"m\"}");
        assertThat(targets.missedBy(FleetPull.targets(targets, null, pull))).isEmpty();
        fleet.byName("b").draining(true);
        assertThat(targets.missedBy(FleetPull.targets(targets, null, pull))).containsExactly("b");
        assertThat(targets.missedBy(FleetPull.targets(targets, "c", pull))).containsExactly("a", "b");
    }
}
