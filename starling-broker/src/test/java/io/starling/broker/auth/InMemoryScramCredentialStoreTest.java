package io.starling.broker.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class InMemoryScramCredentialStoreTest {

    @Test
    void fromPasswords_derivesWithRandomSaltsAndDefaultIterations() {
        InMemoryScramCredentialStore store = InMemoryScramCredentialStore.fromPasswords(Map.of("a", "same", "b", "same"));
        ScramCredential a = store.lookup("a");
        ScramCredential b = store.lookup("b");

        assertThat(store.size()).isEqualTo(2);
        assertThat(a.iterations()).isEqualTo(4096).isEqualTo(InMemoryScramCredentialStore.DEFAULT_ITERATIONS);
        assertThat(a.salt()).hasSize(16);
        assertThat(a.salt()).isNotEqualTo(b.salt());
        assertThat(a.storedKey()).isNotEqualTo(b.storedKey());
        assertThat(store.lookup("c")).isNull();
        assertThat(store.lookup(null)).isNull();
    }

    @Test
    void keepsOnlyTheDerivedKeys() {
        InMemoryScramCredentialStore store = InMemoryScramCredentialStore.fromPasswords(Map.of("a", "pw"), 4100);
        ScramCredential a = store.lookup("a");
        ScramCredential expected = ScramCredential.fromPassword("pw", a.salt(), 4100);
        assertThat(a.iterations()).isEqualTo(4100);
        assertThat(a.storedKey()).isEqualTo(expected.storedKey());
        assertThat(a.serverKey()).isEqualTo(expected.serverKey());
        assertThat(new String(a.storedKey(), UTF_8)).doesNotContain("pw");
    }

    @Test
    void addPrecomputed_replaceAndRemove() {
        InMemoryScramCredentialStore store = new InMemoryScramCredentialStore();
        ScramCredential one = new ScramCredential(new byte[] {1}, 4096, new byte[32], new byte[32]);
        ScramCredential two = ScramCredential.fromPassword("x", new byte[] {2}, 1);
        store.add("u", one);
        assertThat(store.lookup("u")).isSameAs(one);
        store.add("u", two);
        assertThat(store.lookup("u")).isSameAs(two);
        assertThat(store.remove("u")).isTrue();
        assertThat(store.remove("u")).isFalse();
        assertThat(store.size()).isZero();
    }

    @Test
    void userNamesAreSaslPrepped() {
        InMemoryScramCredentialStore store = new InMemoryScramCredentialStore();
        store.addPassword("\uFB01x", "pw", 1); // the "fi" ligature is "fi" in NFKC
        assertThat(store.lookup("fix")).isNotNull();
        assertThatThrownBy(() -> store.addPassword("", "pw", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.addPassword("a\u0007", "pw", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.addPassword("a", "p\u0000w", 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void credentialValidatesItsParts() {
        assertThatThrownBy(() -> new ScramCredential(new byte[0], 1, new byte[32], new byte[32]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramCredential(new byte[1], 0, new byte[32], new byte[32]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramCredential(new byte[1], 1, new byte[20], new byte[32]))
                .isInstanceOf(IllegalArgumentException.class);
        byte[] salt = {1, 2};
        ScramCredential c = new ScramCredential(salt, 1, new byte[32], new byte[32]);
        salt[0] = 9;
        c.salt()[1] = 9;
        assertThat(c.salt()).containsExactly(1, 2);
    }
}
