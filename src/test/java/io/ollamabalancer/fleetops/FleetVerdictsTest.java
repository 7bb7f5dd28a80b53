package io.ollamabalancer.fleetops;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendProbe;
import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How {@link FleetDelete} and {@link FleetCopy} answer from their backends' outcomes. */
class FleetVerdictsTest {
    private static final Backend A = backend("a");
    private static final Backend B = backend("b");

    private static Backend backend(String name) {
        return new Backend(new BackendConfig(name, URI.create("http://127.0.0.1:1"), 1, null, true));
    }

    private static ReplyFanout.Outcome reply(Backend b, int status, String body) {
        return new ReplyFanout.Outcome(b, new BackendProbe.Reply(status, body.getBytes(StandardCharsets.UTF_8)), null);
    }

    private static String text(ReplyFanout.Answer a) {
        return a.status() + " " + new String(a.body(), StandardCharsets.UTF_8);
    }

    @Test
    void deleteIsDoneWhenAnyBackendDeletedAndOllamas404WhenNoneHadIt() {
        FleetDelete delete = new FleetDelete("Llama3.2");
        String notFound = "{\"error\":\"model 'llama3.2' not found\"}";
        assertThat(text(delete.decide(List.of(reply(A, 404, notFound), reply(B, 200, ""))))).isEqualTo("200 ");
        assertThat(text(delete.decide(List.of(reply(A, 404, notFound), reply(B, 404, notFound)))))
                .isEqualTo("404 {\"error\":\"model 'Llama3.2' not found\"}");
        assertThat(text(delete.decide(List.of(reply(A, 404, notFound),
                new ReplyFanout.Outcome(B, null, new IOException("connection refused"))))))
                .isEqualTo("502 {\"error\":\"backend 'b': connection refused\"}");
    }

    @Test
    void copyIsDoneOnlyWhenEveryBackendCopiedElseTheFirstErrorNamingItsBackend() {
        assertThat(text(FleetCopy.INSTANCE.decide(List.of(reply(A, 200, ""), reply(B, 200, ""))))).isEqualTo("200 ");
        assertThat(text(FleetCopy.INSTANCE.decide(List.of(reply(A, 200, ""),
                reply(B, 404, "{\"error\":\"model \\\"x\\\" not found\"}")))))
                .isEqualTo("404 {\"error\":\"backend 'b': model \\\"x\\\" not found\"}");
        assertThat(text(FleetCopy.INSTANCE.decide(List.of(reply(A, 500, "boom"), reply(B, 200, "")))))
                .isEqualTo("500 {\"error\":\"backend 'a': boom\"}");
    }
}
