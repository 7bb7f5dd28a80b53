package io.ollamabalancer.schedule;

import io.ollamabalancer.config.BalancerConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The scheduler's settings as a balancer configuration gives them. */
class SchedulerSettingsTest {
    @Test
    void fairShareRunsOnlyWithApiKeys() {
        BalancerConfig none = BalancerConfig.defaults();
        assertThat(none.fairShare()).as("the setting's default").isTrue();
        assertThat(SchedulerSettings.from(none).fairShare()).as("no keys: nobody to share between").isFalse();
        BalancerConfig keyed = none.toBuilder().apiKeysFile(Path.of("keys.json")).build();
        assertThat(SchedulerSettings.from(keyed).fairShare()).isTrue();
        assertThat(SchedulerSettings.from(keyed.toBuilder().fairShare(false).build()).fairShare()).isFalse();
    }
}
