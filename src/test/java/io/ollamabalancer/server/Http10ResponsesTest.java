package io.ollamabalancer.server;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Http10ResponsesTest {

    private static HttpResponse chunkedHead() {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        return r;
    }

    @Test
    void aChunkedHeadForAnHttp10RequestLosesItsChunkingAndClosesAndTheRelaysHeadIsUntouched() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http10Responses());
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.POST, "/api/generate"));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/generate"));
        HttpResponse first = chunkedHead();
        ch.writeOutbound(first);
        HttpResponse out = ch.readOutbound();
        assertThat(out.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        assertThat(out.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        assertThat(first.headers().get(HttpHeaderNames.TRANSFER_ENCODING))
                .as("the relay still sees its own head as chunked").isEqualTo("chunked");

        HttpResponse second = chunkedHead();
        ch.writeOutbound(second);
        assertThat((Object) ch.readOutbound()).as("an HTTP/1.1 request's answer passes as it is").isSameAs(second);
        ch.finishAndReleaseAll();
    }
}
