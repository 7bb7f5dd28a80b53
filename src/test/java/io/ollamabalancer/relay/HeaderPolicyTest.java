package io.ollamabalancer.relay;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.config.BackendConfig;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class HeaderPolicyTest {
    private final Backend backend = new Backend(new BackendConfig("b", URI.create("http://127.0.0.1:11434"), 1, null,
            true));

    @Test
    void upstreamRequestCarriesTheBackendsHostAndNoHopByHopHeaders() {
        FullHttpRequest client = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/chat",
                Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8));
        HttpHeaders h = client.headers();
        h.set(HttpHeaderNames.HOST, "balancer.example:3000");
        h.set(HttpHeaderNames.CONNECTION, "keep-alive");
        h.set(HttpHeaderNames.ORIGIN, "http://localhost:5173");
        h.set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        h.set("X-Priority", "high");
        h.set("X-Ollama-Backend", "b");
        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer sk-anything");
        h.set(HttpHeaderNames.USER_AGENT, "ollama-js/0.6.3");

        HttpHeaders prepared = HeaderPolicy.prepareUpstreamHeaders(client,
                new InetSocketAddress("10.1.2.3", 5555));
        FullHttpRequest up = HeaderPolicy.upstreamRequest(HttpMethod.POST, "/api/chat", client.content().retain(),
                prepared, backend);
        assertThat(up.headers().get(HttpHeaderNames.HOST)).isEqualTo("127.0.0.1:11434");
        assertThat(up.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(2);
        assertThat(up.headers().get("X-Forwarded-For")).isEqualTo("10.1.2.3");
        assertThat(up.headers().get(HttpHeaderNames.AUTHORIZATION)).isEqualTo("Bearer sk-anything");
        assertThat(up.headers().get(HttpHeaderNames.USER_AGENT)).isEqualTo("ollama-js/0.6.3");
        for (CharSequence gone : new CharSequence[] {HttpHeaderNames.CONNECTION, HttpHeaderNames.ORIGIN,
                HttpHeaderNames.TRANSFER_ENCODING, "X-Priority", "X-Ollama-Backend"}) {
            assertThat(up.headers().contains(gone)).as("%s", gone).isFalse();
        }
        up.release();
        client.release();
    }

    @Test
    void clientResponseDropsTheBackendsConnectionHeadersOnly() {
        HttpResponse upstream = new DefaultHttpResponse(HttpVersion.HTTP_1_0, HttpResponseStatus.OK);
        upstream.headers().set(HttpHeaderNames.CONNECTION, "close");
        upstream.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-ndjson");
        upstream.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        HttpResponse out = HeaderPolicy.clientResponse(upstream);
        assertThat(out.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        assertThat(out.headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
        assertThat(out.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/x-ndjson");
        assertThat(out.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
    }
}
