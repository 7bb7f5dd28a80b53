package io.ollamabalancer.auth;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ModelGlobTest {
    @Test
    void starMatchesAnyRunAndQuestionMarkOneCharacter() {
        assertThat(new ModelGlob("llama3.2:*").matches("llama3.2:1b")).isTrue();
        assertThat(new ModelGlob("llama3.2:*").matches("llama3.2:latest")).isTrue();
        assertThat(new ModelGlob("llama3.2:*").matches("llama3.1:8b")).isFalse();
        assertThat(new ModelGlob("llama3.?:8b").matches("llama3.1:8b")).isTrue();
        assertThat(new ModelGlob("llama3.?:8b").matches("llama3.10:8b")).isFalse();
        assertThat(new ModelGlob("*").matches("anything:at-all")).isTrue();
        assertThat(new ModelGlob("*embed*").matches("nomic-embed-text:latest")).isTrue();
        assertThat(new ModelGlob("a*b*c").matches("axxbyyc")).isTrue();
        assertThat(new ModelGlob("a*b*c").matches("axxbyy")).isFalse();
        assertThat(new ModelGlob("").matches("x")).isFalse();
    }

    @Test
    void aNameWithoutTagMeansLatestAndCaseIsIgnored() {
        assertThat(new ModelGlob("Qwen2.5").matches("qwen2.5:latest")).isTrue();
        assertThat(new ModelGlob("qwen2.5").matches("qwen2.5:7b")).isFalse();
        assertThat(new ModelGlob("qwen2.5:7b").matches("qwen2.5:latest")).isFalse();
    }

    @Test
    void manyStarsStayLinear() {
        String name = "a".repeat(5_000);
        long t0 = System.nanoTime();
        assertThat(new ModelGlob("*a*a*a*a*a*a*a*a*b").matches(name)).isFalse();
        assertThat(System.nanoTime() - t0).as("nanoseconds").isLessThan(2_000_000_000L);
    }
}
