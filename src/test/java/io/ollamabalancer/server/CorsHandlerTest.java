package io.ollamabalancer.server;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CorsHandlerTest {

    private static FullHttpRequest request(HttpMethod method, String origin) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/api/chat");
        r.headers().set(HttpHeaderNames.HOST, "balancer:3000");
        if (origin != null) {
            r.headers().set(HttpHeaderNames.ORIGIN, origin);
        }
        return r;
    }

    @Test
    void preflightFromAllowedOriginBecomesA204RefusalAnsweredInItsTurn() {
        EmbeddedChannel ch = new EmbeddedChannel(new CorsHandler(CorsPolicy.of(null)));
        FullHttpRequest pre = request(HttpMethod.OPTIONS, "http://localhost:5173");
        pre.headers().set(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD, "POST");
        ch.writeInbound(pre);
        assertThat((Object) ch.readOutbound()).as("not written here").isNull();
        RefusedRequest refused = ch.readInbound();
        assertThat(refused.closes()).isFalse();
        FullHttpResponse r = refused.answer();
        refused.release();
        assertThat(r.status()).isEqualTo(HttpResponseStatus.NO_CONTENT);
        assertThat(r.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN)).isEqualTo("http://localhost:5173");
        assertThat(r.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS)).contains("Content-Type");
        // Written later by the request handler, it passes back through here and gains nothing more.
        ch.writeOutbound(r);
        FullHttpResponse out = ch.readOutbound();
        assertThat(out.headers().getAll(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN)).hasSize(1);
        out.release();
        assertThat(pre.refCnt()).isZero();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void foreignOriginGets403AndConfiguredOneIsAllowed() {
        EmbeddedChannel ch = new EmbeddedChannel(new CorsHandler(CorsPolicy.of("https://*.example.com")));
        ch.writeInbound(request(HttpMethod.POST, "https://evil.test"));
        RefusedRequest refusal = ch.readInbound();
        FullHttpResponse refused = refusal.answer();
        refusal.release();
        assertThat(refused.status()).isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(refused.content().readableBytes()).isZero();
        ch.writeOutbound(refused);
        ((FullHttpResponse) ch.readOutbound()).release();

        ch.writeInbound(request(HttpMethod.POST, "https://chat.example.com"));
        FullHttpRequest passed = ch.readInbound();
        assertThat(passed).isNotNull();
        passed.release();
        ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        HttpResponse r = ch.readOutbound();
        assertThat(r.headers().get(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN)).isEqualTo("https://chat.example.com");
        assertThat(r.headers().get(HttpHeaderNames.VARY)).isEqualTo("origin");
        ch.finishAndReleaseAll();
    }

    @Test
    void requestsWithoutOriginOrSameOriginPassUntouched() {
        EmbeddedChannel ch = new EmbeddedChannel(new CorsHandler(CorsPolicy.of(null)));
        ch.writeInbound(request(HttpMethod.POST, null));
        ch.writeInbound(request(HttpMethod.POST, "http://balancer:3000"));
        for (int i = 0; i < 2; i++) {
            FullHttpRequest r = ch.readInbound();
            assertThat(r).isNotNull();
            r.release();
            ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
            HttpResponse out = ch.readOutbound();
            assertThat(out.headers().contains(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN)).isFalse();
        }
        ch.finishAndReleaseAll();
    }

    @Test
    void starAllowsEveryOrigin() {
        CorsPolicy any = CorsPolicy.of("*");
        assertThat(any.allows("https://anything.test")).isTrue();
        assertThat(any.allowsAny()).isTrue();
        CorsPolicy defaults = CorsPolicy.of(null);
        assertThat(defaults.allows("http://127.0.0.1:8080")).isTrue();
        assertThat(defaults.allows("vscode-webview://abc")).isTrue();
        assertThat(defaults.allows("chrome-extension://abc")).isFalse();
    }
}
