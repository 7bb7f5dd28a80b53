package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EndFloorTest {

    @Test
    void startsLowerAKnownFloorButDoNotMakeAnUnknownOneKnown() {
        EndFloor f = new EndFloor();
        f.started(500);
        assertThat(f.current().nanos()).as("the jobs already running have no floor").isEqualTo(Long.MIN_VALUE);
        f.refreshed(f.current(), 1_000);
        assertThat(f.current().nanos()).isEqualTo(1_000);
        f.started(2_000);
        assertThat(f.current().nanos()).isEqualTo(1_000);
        f.started(700);
        assertThat(f.current().nanos()).isEqualTo(700);
    }

    @Test
    void aForecastRaisesTheFloorOnlyIfNoJobStartedWhileItPredicted() {
        EndFloor f = new EndFloor();
        f.refreshed(f.current(), 1_000);
        EndFloor.Mark seen = f.current();
        f.refreshed(seen, 3_000);
        assertThat(f.current().nanos()).as("nothing started meanwhile").isEqualTo(3_000);
        seen = f.current();
        f.started(4_000);
        // Not lower than the floor, but it may be missing from the forecast, whose 5,000 would pass its end.
        f.refreshed(seen, 5_000);
        assertThat(f.current().nanos()).isEqualTo(3_000);
        seen = f.current();
        f.started(2_000);
        // This start lowered the floor after the forecast read its mark: its job may be missing from the forecast.
        f.refreshed(seen, 4_000);
        assertThat(f.current().nanos()).isEqualTo(2_000);
    }

    @Test
    void aStartDuringTheFirstForecastKeepsTheFloorUnknown() {
        EndFloor f = new EndFloor();
        EndFloor.Mark seen = f.current();
        f.started(500);
        f.refreshed(seen, 1_000);
        assertThat(f.current().nanos()).as("the job that started may end at 500").isEqualTo(Long.MIN_VALUE);
    }
}
