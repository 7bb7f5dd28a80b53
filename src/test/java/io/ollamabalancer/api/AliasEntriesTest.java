package io.ollamabalancer.api;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AliasEntriesTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.contains(":") ? n : n + ":latest";
    }

    @Test
    void aTagsAliasIsTheTargetsEntryRenamedEveryOtherFieldKept() {
        List<byte[]> bodies = List.of(b("{\"models\":[{\"name\":\"llama3.2:3b\",\"model\":\"llama3.2:3b\","
                + "\"size\":2019393189,\"digest\":\"a80c\",\"details\":{\"family\":\"llama\",\"name\":\"x\"}}]}"));
        assertThat(s(AliasEntries.forTags(bodies, Map.of("chat", "LLAMA3.2:3b"), AliasEntriesTest::key)))
                .isEqualTo("{\"models\":[{\"name\":\"chat\",\"model\":\"chat\",\"size\":2019393189,\"digest\":\"a80c\","
                        + "\"details\":{\"family\":\"llama\",\"name\":\"x\"}}]}");
    }

    @Test
    void aV1AliasRenamesTheId() {
        List<byte[]> bodies = List.of(b("{\"object\":\"list\",\"data\":[{\"id\":\"all-minilm:latest\",\"object\":\"model\","
                + "\"created\":1,\"owned_by\":\"library\"}]}"));
        assertThat(s(AliasEntries.forV1Models(bodies, Map.of("embed", "all-minilm"), AliasEntriesTest::key)))
                .isEqualTo("{\"object\":\"list\",\"data\":[{\"id\":\"embed\",\"object\":\"model\",\"created\":1,"
                        + "\"owned_by\":\"library\"}]}");
    }

    @Test
    void anAliasWhoseTargetNoBackendListsIsNotShownAndABrokenBodyIsSkipped() {
        List<byte[]> bodies = List.of(b("{\"models\":[{\"name\":\"other:1b\"}]}"), b("not json"));
        assertThat(AliasEntries.forTags(bodies, Map.of("chat", "llama3.2:3b"), AliasEntriesTest::key)).isNull();
        assertThat(AliasEntries.forTags(bodies, Map.of(), AliasEntriesTest::key)).isNull();
    }
}
