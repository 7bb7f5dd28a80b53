package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SlotForecastTest {
    private static final long MAX = Long.MAX_VALUE;

    @Test
    void aPartialForecastIsExhaustedOnceItsListedIdleSlotsAreReservedAndAFullerOneReplaysTheReservations() {
        // Two idle slots listed of a backend with three idle and three busy (one listed, two only counted).
        SlotForecast partial = new SlotForecast(new long[] {0, 0, MAX}, 2, true);
        partial.reserve(7);
        assertThat(partial.times()).containsExactly(0, 7, MAX);
        assertThat(partial.exhausted()).isFalse();
        partial.reserve(20);
        assertThat(partial.times()).containsExactly(7, 20, MAX);
        assertThat(partial.exhausted()).as("the third idle slot and the busy ones are not listed").isTrue();
        assertThat(partial.reservations()).isEqualTo(2);

        partial.replaceWith(new SlotForecast(new long[] {0, 0, 0, 5, 9, 12}, 0, false));
        // As if the two reservations had been made on the full forecast from the start.
        assertThat(partial.times()).containsExactly(0, 5, 7, 9, 12, 20);
        assertThat(partial.unlisted()).isZero();
        assertThat(partial.exhausted()).isFalse();
        assertThat(partial.streamsAt(0)).isEqualTo(6);
    }

    @Test
    void aFullForecastIsNeverExhausted() {
        SlotForecast full = new SlotForecast(new long[] {0, 4}, 0, false);
        full.reserve(3);
        full.reserve(8);
        assertThat(full.times()).containsExactly(4, 8);
        assertThat(full.exhausted()).isFalse();
    }

    @Test
    void reservationsGrowPastTheirFirstCapacity() {
        SlotForecast f = new SlotForecast(new long[] {0, 0, 0, 0, 0, 0}, 0, true);
        for (int i = 1; i <= 6; i++) {
            f.reserve(i * 10L);
        }
        assertThat(f.exhausted()).isTrue();
        f.replaceWith(new SlotForecast(new long[] {0, 0, 0, 0, 0, 0, 0, 0}, 0, false));
        assertThat(f.times()).containsExactly(0, 0, 10, 20, 30, 40, 50, 60);
    }
}
