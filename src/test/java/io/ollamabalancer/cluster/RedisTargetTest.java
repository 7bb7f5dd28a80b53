package io.ollamabalancer.cluster;

import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisURI;
import io.ollamabalancer.config.BalancerConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RedisTargetTest {

    private static RedisCredentials credentials(RedisURI uri) {
        return uri.getCredentialsProvider().resolveCredentials().block();
    }

    @Test
    void aPlainUrlIsOneServerWithItsDatabaseAndCredentials() {
        RedisTarget t = RedisTarget.parse("redis://user:s3cret@cache.internal:6380/2");
        assertThat(t.mode()).isEqualTo(RedisTarget.Mode.STANDALONE);
        assertThat(t.uris()).hasSize(1);
        assertThat(t.uris().get(0).getHost()).isEqualTo("cache.internal");
        assertThat(t.uris().get(0).getPort()).isEqualTo(6380);
        assertThat(t.uris().get(0).getDatabase()).isEqualTo(2);
        assertThat(credentials(t.uris().get(0)).getUsername()).isEqualTo("user");
        assertThat(new String(credentials(t.uris().get(0)).getPassword())).isEqualTo("s3cret");
        assertThat(t.display()).isEqualTo("redis://user:***@cache.internal:6380/2").doesNotContain("s3cret");
    }

    @Test
    void tlsAndTheOldHostPortFormBothParse() {
        assertThat(RedisTarget.parse("rediss://:pw@cache:6390").uris().get(0).isSsl()).isTrue();
        assertThat(RedisTarget.parse("rediss://:pw@cache:6390").display()).isEqualTo("rediss://:***@cache:6390");
        // What the CLI makes of REDIS_HOST/REDIS_PORT.
        RedisTarget legacy = RedisTarget.parse("redis://cache:6379");
        assertThat(legacy.uris().get(0).getPort()).isEqualTo(6379);
        assertThat(credentials(legacy.uris().get(0)).hasPassword()).isFalse();
    }

    @Test
    void aSentinelUrlNamesItsSentinelsAndMaster() {
        RedisTarget t = RedisTarget.parse("redis-sentinel://:pw@s1:26379,s2:26380/1#mymaster");
        assertThat(t.mode()).isEqualTo(RedisTarget.Mode.SENTINEL);
        assertThat(t.uris().get(0).getSentinels()).extracting(u -> u.getHost() + ":" + u.getPort())
                .containsExactly("s1:26379", "s2:26380");
        assertThat(t.uris().get(0).getSentinelMasterId()).isEqualTo("mymaster");
        assertThat(t.uris().get(0).getDatabase()).isEqualTo(1);
        assertThatThrownBy(() -> RedisTarget.parse("redis-sentinel://s1:26379"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("#masterId");
    }

    @Test
    void aClusterUrlListsSeedNodesWithSharedCredentials() {
        RedisTarget t = RedisTarget.parse("redis-cluster://:pw@n1:7000,n2:7001,n3");
        assertThat(t.mode()).isEqualTo(RedisTarget.Mode.CLUSTER);
        assertThat(t.uris()).extracting(u -> u.getHost() + ":" + u.getPort())
                .containsExactly("n1:7000", "n2:7001", "n3:6379");
        assertThat(t.uris()).allMatch(u -> "pw".equals(new String(credentials(u).getPassword())));
        assertThat(RedisTarget.parse("rediss-cluster://n1:7000").uris().get(0).isSsl()).isTrue();
        assertThatThrownBy(() -> RedisTarget.parse("redis-cluster://n1:7000/3"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("database 0");
    }

    @Test
    void whatIsNotARedisUrlIsRefusedWithAReason() {
        assertThatThrownBy(() -> RedisTarget.parse("cache:6379")).hasMessageContaining("scheme");
        assertThatThrownBy(() -> RedisTarget.parse("  ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> RedisTarget.parse("http://cache:6379")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RedisTarget.parse("redis-cluster://")).hasMessageContaining("seed");
    }

    @Test
    void clusterModeIsOnExactlyWhenTheBalancerHasARedisUrl() {
        assertThat(ClusterConfig.fromBalancerConfig(BalancerConfig.defaults())).isNull();
        assertThat(ClusterConfig.fromBalancerConfig(BalancerConfig.builder().redisUrl(" ").build())).isNull();
        ClusterConfig c = ClusterConfig.fromBalancerConfig(BalancerConfig.builder().redisUrl("redis://r:1").build());
        assertThat(c.target().uris().get(0).getHost()).isEqualTo("r");
        assertThat(c.replicaId()).matches("[A-Za-z0-9._-]+");
        assertThat(c.renewInterval()).isEqualTo(c.leaseTtl().dividedBy(3));
    }

    @Test
    void configRejectsTimingsThatCannotWork() {
        ClusterConfig c = ClusterConfig.fromUrl("redis://r:1");
        assertThatThrownBy(() -> c.toBuilder().leaseTtl(Duration.ofMillis(500)).build())
                .hasMessageContaining("leaseTtl");
        assertThatThrownBy(() -> c.toBuilder().replicaId("a b").build()).hasMessageContaining("replica id");
        assertThatThrownBy(() -> c.toBuilder().namespace("x{y}").build()).hasMessageContaining("namespace");
    }
}
