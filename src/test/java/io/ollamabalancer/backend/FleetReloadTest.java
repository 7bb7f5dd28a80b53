package io.ollamabalancer.backend;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BackendsDiff;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class FleetReloadTest {
    private final FakeClock clock = new FakeClock();
    private final List<String> dropped = new CopyOnWriteArrayList<>();
    private final Fleet fleet = new Fleet(List.of(cfg("a", 1, 2), cfg("b", 2, 2), cfg("c", 3, 2)),
            HealthPolicy.defaults(), clock);

    FleetReloadTest() {
        fleet.onRetired(b -> dropped.add(b.name() + "@" + b.config().port()));
    }

    @Test
    void aRemovedBackendWithStreamsDrainsAndLeavesWhenItsLastOneEnds() {
        Backend b = fleet.byName("b");
        assertThat(b.tryAcquireSlot()).isTrue();
        b.outstanding().incrementAndGet();

        FleetChange change = fleet.reload(List.of(cfg("a", 1, 2), cfg("c", 3, 2)));

        assertThat(change.retiring()).containsExactly(b);
        assertThat(fleet.all()).extracting(Backend::name).containsExactly("a", "c");
        assertThat(fleet.retiring()).containsExactly(b);
        assertThat(fleet.byName("b")).isNull();
        assertThat(b.draining()).isTrue();
        assertThat(b.retired()).isTrue();
        assertThat(b.isAvailable()).isFalse();
        assertThat(fleet.candidates("m:latest", null)).doesNotContain(b);

        b.outstanding().decrementAndGet();
        assertThat(fleet.reapRetired()).isEmpty(); // its slot is still held
        b.releaseSlot();
        assertThat(fleet.reapRetired()).containsExactly(b);
        assertThat(fleet.retiring()).isEmpty();
        assertThat(dropped).containsExactly("b@2");
        assertThat(fleet.reapRetired()).isEmpty();
        assertThat(dropped).hasSize(1);
    }

    @Test
    void anIdleRemovedBackendIsDroppedAtOnce() {
        fleet.reload(List.of(cfg("a", 1, 2), cfg("b", 2, 2)));
        assertThat(fleet.retiring()).isEmpty();
        assertThat(dropped).containsExactly("c@3");
    }

    @Test
    void limitsAndEnabledChangeInPlaceSoSlotsCarryOver() {
        Backend a = fleet.byName("a");
        assertThat(a.tryAcquireSlot()).isTrue();
        assertThat(a.tryAcquireSlot()).isTrue();

        FleetChange change = fleet.reload(List.of(cfg("a", 1, 3), cfg("b", 2, 2), cfg("c", 3, 2)));

        assertThat(change.reconfigured()).containsExactly(a);
        assertThat(change.added()).isEmpty();
        assertThat(fleet.byName("a")).isSameAs(a);
        assertThat(a.slotsInUse()).isEqualTo(2);
        assertThat(a.tryAcquireSlot()).isTrue();
        assertThat(a.tryAcquireSlot()).isFalse();
    }

    @Test
    void aMovedUrlIsANewBackendAndTheOldOneDrains() {
        Backend oldA = fleet.byName("a");
        oldA.outstanding().incrementAndGet();

        FleetChange change = fleet.reload(List.of(cfg("a", 9, 2), cfg("b", 2, 2), cfg("c", 3, 2)));

        Backend newA = fleet.byName("a");
        assertThat(newA).isNotSameAs(oldA);
        assertThat(newA.config().port()).isEqualTo(9);
        assertThat(change.added()).containsExactly(newA);
        assertThat(change.retiring()).containsExactly(oldA);
        assertThat(fleet.retiring()).containsExactly(oldA);
        assertThat(newA.isAvailable()).isTrue();

        oldA.outstanding().decrementAndGet();
        fleet.reapRetired();
        assertThat(dropped).containsExactly("a@1");
    }

    @Test
    void newBackendsJoinInConfigOrderWithTheFleetsListenerAndPolicy() {
        List<String> ejected = new CopyOnWriteArrayList<>();
        fleet.healthListener(new HealthListener() {
            @Override
            public void onEjected(Backend backend, String why) {
                ejected.add(backend.name());
            }
        });

        FleetChange change = fleet.apply(BackendsDiff.between(fleet.configs(),
                List.of(cfg("c", 3, 2), cfg("d", 4, 2), cfg("a", 1, 2), cfg("b", 2, 2))));

        assertThat(fleet.all()).extracting(Backend::name).containsExactly("c", "d", "a", "b");
        Backend d = fleet.byName("d");
        assertThat(change.added()).containsExactly(d);
        d.healthTracker().onConnectionRefused("refused");
        assertThat(ejected).containsExactly("d");
        assertThat(d.healthTracker().policy()).isSameAs(fleet.healthPolicy());
    }

    @Test
    void aRetireeReaddedByNameIsANewBackendWhileTheOldOneStillDrains() {
        Backend c = fleet.byName("c");
        c.outstanding().incrementAndGet();
        fleet.reload(List.of(cfg("a", 1, 2), cfg("b", 2, 2)));

        fleet.reload(List.of(cfg("a", 1, 2), cfg("b", 2, 2), cfg("c", 3, 2)));

        assertThat(fleet.byName("c")).isNotSameAs(c);
        assertThat(fleet.byName("c").isAvailable()).isTrue();
        assertThat(fleet.retiring()).containsExactly(c);
    }

    @Test
    void anUnchangedReloadChangesNothing() {
        List<Backend> before = fleet.all();
        FleetChange change = fleet.reload(fleet.configs());
        assertThat(change.isEmpty()).isTrue();
        assertThat(change.diff().isEmpty()).isTrue();
        assertThat(fleet.all()).isEqualTo(before);
    }

    private static BackendConfig cfg(String name, int port, int max) {
        return new BackendConfig(name, URI.create("http://127.0.0.1:" + port), max, List.of("m"), true);
    }
}
