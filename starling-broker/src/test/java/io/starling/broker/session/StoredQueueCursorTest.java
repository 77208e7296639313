package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** The cursor of a session's stored queue: what is held in memory, what stays on disk, and how pages move it. */
class StoredQueueCursorTest {

    private final StoredQueueCursor cursor = new StoredQueueCursor();

    @Test
    void offlineEverythingStaysOnDiskAndIsPagedInLater() {
        assertThat(cursor.take(1, 0, false)).isFalse();
        assertThat(cursor.take(2, 0, false)).isFalse();
        assertThat(cursor.needsPage()).isTrue();
        assertThat(cursor.after()).isZero();
        assertThat(cursor.upTo()).isEqualTo(2);
    }

    @Test
    void connectedDeliveriesAreTakenWhileTheWindowHasRoomAndNothingOlderIsOnDisk() {
        assertThat(cursor.take(1, 0, true)).isTrue();
        assertThat(cursor.isPast(1)).isTrue();
        assertThat(cursor.take(2, StoredQueueCursor.WINDOW, true)).as("window full").isFalse();
        assertThat(cursor.take(3, 0, true)).as("2 is still on disk: 3 must not overtake it").isFalse();
        assertThat(cursor.needsPage()).isTrue();
    }

    @Test
    void aPageMovesTheCursorAndAShortPageAccountsForEverythingAskedFor() {
        cursor.take(5, 0, false);
        cursor.pageRequested();
        assertThat(cursor.needsPage()).as("one page at a time").isFalse();
        long upTo = cursor.upTo();
        cursor.take(6, 0, false); // committed after the page was asked for
        cursor.pageArrived();
        assertThat(cursor.acceptFromPage(3)).isTrue();
        assertThat(cursor.acceptFromPage(3)).as("seen already").isFalse();
        assertThat(cursor.acceptFromPage(5)).isTrue();
        cursor.pageDone(2, upTo);
        assertThat(cursor.after()).isEqualTo(5);
        assertThat(cursor.needsPage()).as("6 is still on disk").isTrue();
    }

    @Test
    void anEmptyShortPageSkipsPositionsThatAreGone() {
        cursor.take(9, 0, false);
        cursor.pageRequested();
        long upTo = cursor.upTo();
        cursor.pageArrived();
        cursor.pageDone(0, upTo); // acknowledged meanwhile: nothing left up to 9
        assertThat(cursor.after()).isEqualTo(9);
        assertThat(cursor.needsPage()).isFalse();
    }

    @Test
    void recoveredInFlightDeliveriesAreNotQueuedAgainFromTheirPage() {
        cursor.restore(4, Set.of(2L));
        assertThat(cursor.needsPage()).isTrue();
        cursor.pageRequested();
        cursor.pageArrived();
        assertThat(cursor.acceptFromPage(1)).isTrue();
        assertThat(cursor.acceptFromPage(2)).as("in flight: re-sent from the window").isFalse();
        assertThat(cursor.acceptFromPage(3)).isTrue();
        assertThat(cursor.acceptFromPage(4)).isTrue();
        cursor.pageDone(4, 4);
        assertThat(cursor.needsPage()).isFalse();
    }

    @Test
    void unloadedDeliveriesAreReadAgain() {
        for (long seq = 1; seq <= 4; seq++) {
            assertThat(cursor.take(seq, 0, true)).isTrue();
        }
        cursor.unloaded(3);
        assertThat(cursor.after()).isEqualTo(2);
        assertThat(cursor.isPast(3)).isFalse();
        assertThat(cursor.needsPage()).isTrue();
        assertThat(cursor.upTo()).isEqualTo(4);
    }

    @Test
    void clearingDropsTheQueueAndChangesTheEpoch() {
        cursor.take(7, 0, false);
        cursor.pageRequested();
        int before = cursor.epoch();
        cursor.clear();
        assertThat(cursor.epoch()).as("a page asked for before is ignored").isNotEqualTo(before);
        assertThat(cursor.isPageRequested()).isFalse();
        assertThat(cursor.needsPage()).isFalse();
        assertThat(cursor.isPast(7)).isTrue();
    }
}
