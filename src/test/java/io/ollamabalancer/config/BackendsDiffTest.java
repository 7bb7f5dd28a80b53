package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendsDiffTest {

    @Test
    void sortsBackendsIntoAddedRemovedChangedAndUnchangedByName() {
        BackendConfig a = cfg("a", 1, 2, true);
        BackendConfig b = cfg("b", 2, 2, true);
        BackendConfig c = cfg("c", 3, 2, true);
        BackendConfig b2 = cfg("b", 2, 4, true);
        BackendConfig d = cfg("d", 4, 1, true);

        BackendsDiff diff = BackendsDiff.between(List.of(a, b, c), List.of(d, b2, a));

        assertThat(diff.added()).containsExactly(d);
        assertThat(diff.removed()).containsExactly(c);
        assertThat(diff.changed()).containsExactly(new BackendsDiff.Change(b, b2));
        assertThat(diff.unchanged()).containsExactly(a);
        assertThat(diff.next()).containsExactly(d, b2, a);
        assertThat(diff.isEmpty()).isFalse();
        assertThat(diff.summary()).isEqualTo("added [d], removed [c], changed [b]");
    }

    @Test
    void onlyAMovedUrlReplacesTheBackend() {
        BackendConfig a = cfg("a", 1, 2, true);
        assertThat(new BackendsDiff.Change(a, cfg("a", 5, 2, true)).replacesBackend()).isTrue();
        assertThat(new BackendsDiff.Change(a, cfg("a", 1, 8, false)).replacesBackend()).isFalse();
        BackendConfig withModels = new BackendConfig("a", a.url(), 2, List.of("llama3.2"), true);
        BackendsDiff diff = BackendsDiff.between(List.of(a), List.of(withModels));
        assertThat(diff.changed()).hasSize(1);
        assertThat(diff.changed().get(0).replacesBackend()).isFalse();
    }

    @Test
    void equalListsMakeAnEmptyDiff() {
        List<BackendConfig> list = List.of(cfg("a", 1, 2, true), cfg("b", 2, 2, false));
        BackendsDiff diff = BackendsDiff.between(list, List.of(cfg("a", 1, 2, true), cfg("b", 2, 2, false)));
        assertThat(diff.isEmpty()).isTrue();
        assertThat(diff.unchanged()).hasSize(2);
        assertThat(BackendsDiff.between(List.of(), List.of()).isEmpty()).isTrue();
    }

    @Test
    void everythingIsAddedToAnEmptyListAndRemovedFromIt() {
        List<BackendConfig> list = List.of(cfg("a", 1, 2, true), cfg("b", 2, 2, true));
        assertThat(BackendsDiff.between(List.of(), list).added()).isEqualTo(list);
        assertThat(BackendsDiff.between(list, List.of()).removed()).isEqualTo(list);
    }

    @Test
    void duplicateNamesAreRejected() {
        assertThatThrownBy(() -> BackendsDiff.between(List.of(),
                List.of(cfg("a", 1, 2, true), cfg("a", 2, 2, true))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a'");
    }

    private static BackendConfig cfg(String name, int port, int max, boolean enabled) {
        return new BackendConfig(name, URI.create("http://127.0.0.1:" + port), max, null, enabled);
    }
}
