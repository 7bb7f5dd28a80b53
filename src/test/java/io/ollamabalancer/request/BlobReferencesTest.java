package io.ollamabalancer.request;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BlobReferencesTest {

    private static List<String> of(String json) {
        return BlobReferences.in(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void filesAndAdaptersValuesInOrder() {
        assertThat(of("{\"model\":\"m\",\"files\":{\"a.gguf\":\"sha256:1\",\"b.gguf\":\"sha256:2\"},"
                + "\"template\":\"{{ .Prompt }}\",\"adapters\":{\"lora.gguf\":\"sha256:3\"}}"))
                .containsExactly("sha256:1", "sha256:2", "sha256:3");
    }

    @Test
    void otherFieldsAreSkippedWhateverTheyHold() {
        assertThat(of("{\"parameters\":{\"files\":{\"x\":\"sha256:no\"}},\"messages\":[{\"files\":\"no\"}],"
                + "\"info\":null,\"files\":{\"a\":\"sha256:yes\",\"odd\":5,\"nested\":{\"b\":\"sha256:no\"}}}"))
                .containsExactly("sha256:yes");
    }

    @Test
    void fieldNamesMatchAsGoMatchesThem() {
        assertThat(of("{\"Files\":{\"a\":\"sha256:1\"},\"ADAPTERS\":{\"b\":\"sha256:2\"}}"))
                .containsExactly("sha256:1", "sha256:2");
    }

    @Test
    void nothingFromBodiesThatNameNoBlobsOrCannotBeRead() {
        assertThat(of("{\"model\":\"m\",\"from\":\"llama3.2\"}")).isEmpty();
        assertThat(of("{\"files\":null}")).isEmpty();
        assertThat(of("[1,2]")).isEmpty();
        assertThat(of("")).isEmpty();
        assertThat(of("{\"files\":{\"a\":\"sha256:1\"")).as("truncated").isEmpty();
        assertThat(of("{\"files\":{\"a\":sha256}}")).isEmpty();
    }
}
