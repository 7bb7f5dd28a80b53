package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PriorityTest {

    @Test
    void namesMapToDocumentedValues() {
        assertThat(Priority.parse("high")).isEqualTo(10);
        assertThat(Priority.parse(" HIGH ")).isEqualTo(10);
        assertThat(Priority.parse("normal")).isZero();
        assertThat(Priority.parse("Low")).isEqualTo(-10);
    }

    @Test
    void integersAreTakenAndClamped() {
        assertThat(Priority.parse("5")).isEqualTo(5);
        assertThat(Priority.parse("-3")).isEqualTo(-3);
        assertThat(Priority.parse("+7")).isEqualTo(7);
        assertThat(Priority.parse("100000")).isEqualTo(Priority.MAX);
        assertThat(Priority.parse("-99999999999")).isEqualTo(Priority.MIN);
    }

    @Test
    void absentOrUnparsableIsNormal() {
        assertThat(Priority.parse(null)).isZero();
        assertThat(Priority.parse("")).isZero();
        assertThat(Priority.parse("urgent!")).isZero();
        assertThat(Priority.parse("1.5")).isZero();
        assertThat(Priority.parse("99999999999999999999999")).isZero();
    }
}
