package io.starling.store.rocksdb;

/**
 * An open-addressing map from positive {@code long} keys to {@code int} values, for the message reference counts:
 * 12 bytes a slot and no object per entry, where a {@code HashMap<Long, Integer>} costs about 60 bytes an entry.
 * Key 0 marks a free slot. Not thread-safe (the committer thread owns it).
 */
final class LongIntMap {

    private long[] keys;
    private int[] values;
    private int size;
    private int mask;

    LongIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new int[cap];
        mask = cap - 1;
    }

    int size() {
        return size;
    }

    int get(long key) {
        int i = slot(key);
        return keys[i] == key ? values[i] : 0;
    }

    void add(long key, int delta) {
        if (key <= 0) {
            throw new IllegalArgumentException("key must be positive: " + key);
        }
        int i = slot(key);
        if (keys[i] == key) {
            values[i] += delta;
            return;
        }
        keys[i] = key;
        values[i] = delta;
        if (++size * 2 > keys.length) {
            grow();
        }
    }

    void remove(long key) {
        int i = slot(key);
        if (keys[i] != key) {
            return;
        }
        keys[i] = 0;
        size--;
        // re-insert the entries of the probe chain after the freed slot (linear probing, no tombstones)
        for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
            long k = keys[j];
            int v = values[j];
            keys[j] = 0;
            int t = slot(k);
            keys[t] = k;
            values[t] = v;
        }
    }

    /** A copy without the entries whose value is {@code value}, sized for what is left. */
    LongIntMap without(int value) {
        int left = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0 && values[i] != value) {
                left++;
            }
        }
        LongIntMap copy = new LongIntMap(left);
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0 && values[i] != value) {
                copy.add(keys[i], values[i]);
            }
        }
        return copy;
    }

    private int slot(long key) {
        int i = (int) (mix(key) & mask);
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private static long mix(long k) {
        k *= 0x9E3779B97F4A7C15L;
        return k ^ (k >>> 32);
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                int t = slot(oldKeys[i]);
                keys[t] = oldKeys[i];
                values[t] = oldValues[i];
            }
        }
    }
}
