package io.ollamabalancer.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.ollamabalancer.api.RouteTable.Route;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteTableTest {
    @ParameterizedTest
    @CsvSource({
        "GET,/,ROOT", "HEAD,/,ROOT", "GET,/api/version,VERSION", "HEAD,/api/version,VERSION",
        "GET,/api/tags,TAGS", "HEAD,/api/tags,TAGS", "GET,/api/ps,PS", "GET,/v1/models,V1_MODELS",
        "POST,/api/generate,GENERATE", "POST,/api/chat,CHAT", "POST,/api/embed,EMBED",
        "POST,/api/embeddings,EMBEDDINGS", "POST,/api/show,SHOW", "POST,/v1/chat/completions,V1_CHAT",
        "POST,/v1/completions,V1_COMPLETIONS", "POST,/v1/embeddings,V1_EMBEDDINGS",
        "POST,/ollama/generate,LEGACY_GENERATE", "GET,/health,HEALTH", "HEAD,/health,HEALTH", "GET,/ready,READY",
        "GET,/metrics,METRICS", "GET,/debug/latency,DEBUG_LATENCY", "GET,/balancer/status,STATUS",
        "HEAD,/balancer/status,STATUS", "POST,/api/create,CREATE"})
    void knownPathsWithTheirMethods(String method, String path, Endpoint expected) {
        Route r = RouteTable.match(method, path);
        assertThat(r.endpoint()).isEqualTo(expected);
        assertThat(r.methodAllowed()).isTrue();
        assertThat(r.pathModel()).isNull();
        assertThat(r.adminBackend()).isNull();
    }

    @ParameterizedTest
    @CsvSource({
        "POST,/,ROOT", "DELETE,/api/tags,TAGS", "HEAD,/api/ps,PS", "POST,/api/ps,PS", "GET,/api/generate,GENERATE",
        "HEAD,/api/chat,CHAT", "GET,/v1/chat/completions,V1_CHAT", "PUT,/api/show,SHOW", "POST,/v1/models,V1_MODELS",
        "HEAD,/v1/models,V1_MODELS", "POST,/health,HEALTH", "DELETE,/metrics,METRICS", "get,/api/tags,TAGS",
        "OPTIONS,/api/chat,CHAT", "GET,/ollama/generate,LEGACY_GENERATE", "GET,/api/create,CREATE"})
    void knownPathWrongMethodIs405(String method, String path, Endpoint expected) {
        Route r = RouteTable.match(method, path);
        assertThat(r.endpoint()).isEqualTo(expected);
        assertThat(r.methodAllowed()).isFalse();
    }

    @ParameterizedTest
    @CsvSource({"GET,/api/tags/,TAGS", "POST,/api/chat/,CHAT", "GET,/v1/models/,V1_MODELS", "GET,/health/,HEALTH",
        "GET,/api/tags?x=1,TAGS", "GET,/api/tags/?x=1,TAGS", "POST,/api/generate#frag,GENERATE",
        "GET,/api%2Ftags,TAGS", "GET,http://balancer:11434/api/tags?y,TAGS", "GET,http://balancer:11434,ROOT",
        "GET,'',ROOT"})
    void trailingSlashQueryAndEncodingVariants(String method, String path, Endpoint expected) {
        Route r = RouteTable.match(method, path);
        assertThat(r.endpoint()).isEqualTo(expected);
        assertThat(r.methodAllowed()).isTrue();
    }

    @Test
    void v1ModelTakesTheDecodedModelFromThePath() {
        Route r = RouteTable.match("GET", "/v1/models/llama3.2:latest");
        assertThat(r.endpoint()).isEqualTo(Endpoint.V1_MODEL);
        assertThat(r.pathModel()).isEqualTo("llama3.2:latest");
        assertThat(r.methodAllowed()).isTrue();

        assertThat(RouteTable.match("GET", "/v1/models/llama3.2%3Alatest?x=1").pathModel())
                .isEqualTo("llama3.2:latest");
        assertThat(RouteTable.match("GET", "/v1/models/qwen%2B2:7b").pathModel()).isEqualTo("qwen+2:7b");
        assertThat(RouteTable.match("GET", "/v1/models/a+b").pathModel()).isEqualTo("a+b");
        assertThat(RouteTable.match("GET", "/v1/models/caf%C3%A9").pathModel()).isEqualTo("café");
        assertThat(RouteTable.match("GET", "/v1/models/gemma3/").pathModel()).isEqualTo("gemma3");
    }

    @Test
    void v1ModelWrongMethodIs405() {
        Route r = RouteTable.match("DELETE", "/v1/models/llama3");
        assertThat(r.endpoint()).isEqualTo(Endpoint.V1_MODEL);
        assertThat(r.methodAllowed()).isFalse();
        assertThat(RouteTable.match("HEAD", "/v1/models/llama3").methodAllowed()).isFalse();
    }

    @Test
    void v1ModelWithSlashIsNotAModelRoute() {
        // gin matches on the decoded path, and :model cannot contain '/'
        assertThat(RouteTable.match("GET", "/v1/models/library/llama3").endpoint()).isEqualTo(Endpoint.PASSTHROUGH);
        assertThat(RouteTable.match("GET", "/v1/models/a%2Fb").endpoint()).isEqualTo(Endpoint.PASSTHROUGH);
    }

    @Test
    void adminRoutes() {
        Route drain = RouteTable.match("POST", "/balancer/backends/gpu-1/drain");
        assertThat(drain.endpoint()).isEqualTo(Endpoint.ADMIN);
        assertThat(drain.adminBackend()).isEqualTo("gpu-1");
        assertThat(drain.adminAction()).isEqualTo("drain");
        assertThat(drain.methodAllowed()).isTrue();

        Route enable = RouteTable.match("POST", "/balancer/backends/gpu%201/enable/");
        assertThat(enable.adminBackend()).isEqualTo("gpu 1");
        assertThat(enable.adminAction()).isEqualTo("enable");

        Route get = RouteTable.match("GET", "/balancer/backends/gpu-1/drain");
        assertThat(get.endpoint()).isEqualTo(Endpoint.ADMIN);
        assertThat(get.methodAllowed()).isFalse();

        assertThat(RouteTable.match("POST", "/balancer/backends/gpu-1/reboot").endpoint())
                .isEqualTo(Endpoint.PASSTHROUGH);
        assertThat(RouteTable.match("POST", "/balancer/backends//drain").endpoint()).isEqualTo(Endpoint.PASSTHROUGH);
        assertThat(RouteTable.match("POST", "/balancer/backends/a/b/drain").endpoint())
                .isEqualTo(Endpoint.PASSTHROUGH);
    }

    @ParameterizedTest
    @CsvSource({"POST,/api/pull,PULL,true", "DELETE,/api/delete,DELETE,true", "POST,/api/copy,COPY,true",
        "POST,/api/pull/,PULL,true", "GET,/api/pull,PULL,false", "POST,/api/delete,DELETE,false"})
    void modelOperationsRunOnTheFleet(String method, String path, Endpoint endpoint, boolean allowed) {
        Route r = RouteTable.match(method, path);
        assertThat(r.endpoint()).isEqualTo(endpoint);
        assertThat(r.endpoint().kind()).isEqualTo(RouteKind.FLEET);
        assertThat(r.methodAllowed()).isEqualTo(allowed);
    }

    @ParameterizedTest
    @CsvSource({"POST,/api/push", "POST,/api/blobs/a/b", "POST,/api/blobs/", "POST,/api/blobs",
        "POST,/v1/responses", "GET,/api/status", "GET,/API/TAGS", "GET,//api/tags", "GET,/api/tags//",
        "GET,/api/ta%zzgs", "GET,/v1/models/%"})
    void everythingElsePassesThrough(String method, String path) {
        Route r = RouteTable.match(method, path);
        assertThat(r.endpoint()).isEqualTo(Endpoint.PASSTHROUGH);
        assertThat(r.methodAllowed()).isTrue();
        assertThat(r.pathModel()).isNull();
    }

    @ParameterizedTest
    @CsvSource({"POST,/api/blobs/sha256:abc,sha256:abc", "HEAD,/api/blobs/sha256:abc,sha256:abc",
        "GET,/api/blobs/sha256-abc/,sha256-abc", "DELETE,/api/blobs/x?y=1,x", "POST,/api/blobs/sha256%3Aab,sha256:ab"})
    void blobRoutesTakeEveryMethodCarryTheDigestAndStream(String method, String path, String digest) {
        Route r = RouteTable.match(method, path);
        assertThat(r.endpoint()).isEqualTo(Endpoint.BLOB);
        assertThat(r.methodAllowed()).as("the backend answers other methods itself").isTrue();
        assertThat(r.blobDigest()).isEqualTo(digest);
        assertThat(r.endpoint().streamsBody()).isTrue();
    }

    @Test
    void fixedRoutesAreShared() {
        assertThat(RouteTable.match("GET", "/api/tags")).isSameAs(RouteTable.match("HEAD", "/api/tags/?a"));
    }
}
