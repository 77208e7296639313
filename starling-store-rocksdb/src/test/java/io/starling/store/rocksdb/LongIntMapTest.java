package io.starling.store.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reference-count map against a {@link HashMap}, through growth, removals (probe chains) and copies. */
class LongIntMapTest {

    @Test
    void behavesLikeAHashMapUnderRandomOperations() {
        Random random = new Random(42);
        LongIntMap map = new LongIntMap(4);
        Map<Long, Integer> expected = new HashMap<>();
        for (int i = 0; i < 200_000; i++) {
            long key = 1 + random.nextInt(5_000); // dense keys: long probe chains
            switch (random.nextInt(3)) {
                case 0 -> {
                    int delta = 1 + random.nextInt(3);
                    map.add(key, delta);
                    expected.merge(key, delta, Integer::sum);
                }
                case 1 -> {
                    map.remove(key);
                    expected.remove(key);
                }
                default -> assertThat(map.get(key)).isEqualTo(expected.getOrDefault(key, 0));
            }
        }
        assertThat(map.size()).isEqualTo(expected.size());
        expected.forEach((k, v) -> assertThat(map.get(k)).as("key %d", k).isEqualTo(v));
        LongIntMap withoutOnes = map.without(1);
        expected.forEach((k, v) -> assertThat(withoutOnes.get(k)).as("key %d", k).isEqualTo(v == 1 ? 0 : v));
        assertThat(withoutOnes.size()).isEqualTo((int) expected.values().stream().filter(v -> v != 1).count());
    }
}
