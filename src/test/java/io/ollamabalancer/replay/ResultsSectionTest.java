package io.ollamabalancer.replay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultsSectionTest {
    @TempDir
    Path dir;

    @Test
    void replacesOnlyBetweenItsOwnMarkers() {
        String other = "# Results\n\n<!-- bench:proxy:start -->\nproxy table\n<!-- bench:proxy:end -->\n";
        String before = other + "\n<!-- bench:scheduling:start -->\nold\n<!-- bench:scheduling:end -->\ntail\n";
        String after = ResultsSection.replace(before, "scheduling", "## Scheduling\nnew\n");
        assertThat(after).isEqualTo(other
                + "\n<!-- bench:scheduling:start -->\n## Scheduling\nnew\n<!-- bench:scheduling:end -->\ntail\n");
        assertThat(ResultsSection.replace(after, "scheduling", "## Scheduling\nnew\n")).isEqualTo(after);
    }

    @Test
    void appendsTheBlockWhenMissingAndCreatesTheFile() throws Exception {
        assertThat(ResultsSection.replace("# Results\nproxy", "scheduling", "x"))
                .isEqualTo("# Results\nproxy\n\n<!-- bench:scheduling:start -->\nx\n<!-- bench:scheduling:end -->\n");
        Path f = dir.resolve("RESULTS.md");
        ResultsSection.write(f, "scheduling", "body");
        ResultsSection.write(f, "scheduling", "body 2");
        assertThat(Files.readString(f)).isEqualTo("# Benchmark results\n\n<!-- bench:scheduling:start -->\nbody 2\n"
                + "<!-- bench:scheduling:end -->\n");
    }

    @Test
    void refusesAFileWithOnlyOneMarker() {
        assertThatThrownBy(() -> ResultsSection.replace("<!-- bench:scheduling:start -->\nx", "scheduling", "y"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only one of its markers");
    }
}
