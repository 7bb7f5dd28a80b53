package io.ollamabalancer.cluster;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A slot yielded to a better request elsewhere must never be free for a local dispatcher, not even in the moment
 * between its release and the yield's bookkeeping: two completions at once on two event loops used to let one
 * thread's drain start a local low-priority request on the other's just-released slot (seen as a low request
 * starting before four high ones queued on another replica). No Redis is needed: the broker's yield path runs on the
 * completing threads, from the budget the last sync left.
 */
class SlotBrokerYieldTest {
    private static final String GPU = "gpu";
    private final ClusterThread thread = new ClusterThread("yield-test");

    @AfterEach
    void stop() {
        thread.close();
    }

    @Test
    void twoSlotsFreedAtOnceAreBothYieldedWithNoMomentFreeForTheLocalDrain() {
        Keys keys = new Keys("yield-test");
        ClusterConfig config = ClusterConfig.fromUrl("redis://127.0.0.1:1").toBuilder().replicaId("a").build();
        SlotLedger ledger = new SlotLedger(keys, "a", config.leaseTtl().toMillis(), config.settleTime().toMillis());
        Membership membership = new Membership(keys, "a", 30_000, 7000, 9000);
        BrokerTests.TwoSlotView view = new BrokerTests.TwoSlotView(GPU);
        SlotBroker broker = new SlotBroker(config, ledger, membership, view, thread, BrokerTests.access(null),
                () -> { }, () -> { }, () -> { }, System::nanoTime);
        SlotGrant grant = broker.grantFor(GPU);
        // As a sync leaves it: both slots held and running here, two better requests wait on another replica.
        BackendGrant g = broker.grants().get(GPU);
        g.held = 2;
        g.target = 2;
        g.shared = true;
        g.yieldBudget.set(2);
        view.inUse = 2;
        assertThat(grant.granted()).isEqualTo(2);

        // Thread X's stream ends: it announces its slot and releases it, but has not yet finished the hand-over.
        boolean x = broker.slotFreeing(GPU);
        view.inUse = 1;
        assertThat(grant.granted()).as("X's released slot is not free here").isLessThanOrEqualTo(view.inUse);
        // Thread Y's stream ends meanwhile and drains: the slot X released must not be there for it to take.
        boolean y = broker.slotFreeing(GPU);
        view.inUse = 0;
        assertThat(grant.granted()).as("neither slot is free for Y's drain").isZero();
        broker.slotFreed(GPU, y);
        assertThat(grant.granted()).isZero();
        broker.slotFreed(GPU, x);
        assertThat(x && y).as("both slots yielded").isTrue();
        assertThat(grant.granted()).as("both slots counted once as yielded, for the next sync to return")
                .isZero();
        assertThat(g.yielded.get()).isEqualTo(2);
        assertThat(g.releasing.get()).isZero();

        // The budget is spent: a third completion keeps its slot for the local queue.
        assertThat(broker.slotFreeing(GPU)).isFalse();
    }
}
