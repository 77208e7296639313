package io.starling.broker.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordHashTest {

    @TempDir
    Path tmp;

    @Test
    void sameResultAsTheJdksPbkdf2WithHmacSha512() throws Exception {
        byte[] salt = "0123456789abcdef".getBytes(UTF_8);
        SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA512");
        byte[] expected = f.generateSecret(new PBEKeySpec("pässword".toCharArray(), salt, 1000, 512)).getEncoded();
        assertThat(PasswordHash.pbkdf2("pässword".getBytes(UTF_8), salt, 1000)).isEqualTo(expected);
    }

    @Test
    void rfc6070StyleVectorForSha512() {
        // PBKDF2-HMAC-SHA512, P = "password", S = "salt", c = 1, dkLen = 64 (a widely published test vector)
        byte[] dk = PasswordHash.pbkdf2("password".getBytes(UTF_8), "salt".getBytes(UTF_8), 1);
        assertThat(java.util.HexFormat.of().formatHex(dk)).isEqualTo(
                "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
                + "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce");
    }

    @Test
    void verifiesTheRightPasswordOnly() {
        PasswordHash h = PasswordHash.create("secret".toCharArray(), 1000);
        assertThat(h.verify("secret".getBytes(UTF_8))).isTrue();
        assertThat(h.verify("Secret".getBytes(UTF_8))).isFalse();
        assertThat(h.verify("secret ".getBytes(UTF_8))).isFalse();
        assertThat(h.verify(new byte[0])).isFalse();
        assertThat(h.verify(null)).isFalse();
    }

    @Test
    void binaryPasswordsThatAreNotUtf8AreKeptApart() {
        // both decode to U+FFFD as UTF-8: as bytes they are different passwords
        PasswordHash h = PasswordHash.create(new byte[] {(byte) 0xC3, 0x28}, 1000);
        assertThat(h.verify(new byte[] {(byte) 0xC3, 0x28})).isTrue();
        assertThat(h.verify(new byte[] {(byte) 0xE2, 0x28})).isFalse();
    }

    @Test
    void saltsAreRandom() {
        PasswordHash a = PasswordHash.create("same".toCharArray(), 1000);
        PasswordHash b = PasswordHash.create("same".toCharArray(), 1000);
        assertThat(a.salt()).hasSize(PasswordHash.SALT_LENGTH).isNotEqualTo(b.salt());
        assertThat(a.hash()).hasSize(64).isNotEqualTo(b.hash());
    }

    @Test
    void encodeDecodeRoundTrip() {
        // a password with characters Base64 never has, so that a random salt or hash cannot contain it by chance
        PasswordHash h = PasswordHash.create("p w!".toCharArray(), 1234);
        String stored = h.encode();
        assertThat(stored).startsWith("$pbkdf2-sha512$1234$").doesNotContain("p w!");
        assertThat(PasswordHash.decode(stored)).isEqualTo(h);
        assertThat(PasswordHash.decode(stored).verify("p w!".getBytes(UTF_8))).isTrue();
        assertThat(h.toString()).doesNotContain(stored.substring(stored.lastIndexOf('$') + 1));
    }

    @Test
    void decodeRefusesOtherSchemesAndBadValues() {
        String salt = "AAAAAAAAAAAAAAAAAAAAAA==";
        String hash = java.util.Base64.getEncoder().encodeToString(new byte[64]);
        assertThatThrownBy(() -> PasswordHash.decode("$7$101$" + salt + "$" + hash)).hasMessageContaining("scheme");
        assertThatThrownBy(() -> PasswordHash.decode("$pbkdf2-sha512$x$" + salt + "$" + hash)).hasMessageContaining("number");
        assertThatThrownBy(() -> PasswordHash.decode("$pbkdf2-sha512$10$" + salt + "$" + hash)).hasMessageContaining("at least");
        assertThatThrownBy(() -> PasswordHash.decode("$pbkdf2-sha512$1000$" + salt + "$AAAA")).hasMessageContaining("64");
        assertThatThrownBy(() -> PasswordHash.decode("$pbkdf2-sha512$1000$!!$" + hash)).hasMessageContaining("salt");
        assertThatThrownBy(() -> PasswordHash.decode("plaintext")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PasswordHash.create(new byte[0], 1000)).hasMessageContaining("empty");
    }

    @Test
    void passwordFileParsesCommentsAndRefusesBadLines() {
        String a = PasswordHash.create("a".toCharArray(), 1000).encode();
        PasswordFile f = PasswordFile.parse(List.of("# users", "", "alice:" + a, "  ", "bob:" + a + "\r"));
        assertThat(f.users()).containsExactly("alice", "bob");
        assertThat(f.lookup("alice").verify("a".getBytes(UTF_8))).isTrue();
        assertThat(f.lookup("carol")).isNull();
        assertThat(f.lookup(null)).isNull();
        assertThatThrownBy(() -> PasswordFile.parse(List.of("alice:" + a, "alice:" + a)))
                .hasMessageContaining("line 2").hasMessageContaining("twice");
        assertThatThrownBy(() -> PasswordFile.parse(List.of("alice " + a))).hasMessageContaining("line 1");
        assertThatThrownBy(() -> PasswordFile.parse(List.of("# ok", ":" + a))).hasMessageContaining("line 2");
        assertThatThrownBy(() -> PasswordFile.parse(List.of("x:$pbkdf2-sha512$1000$broken")))
                .hasMessageContaining("line 1");
    }

    @Test
    void passwordFileWithWithoutAndAtomicWriteOwnerOnly() throws Exception {
        PasswordHash h = PasswordHash.create("pw".toCharArray(), 1000);
        PasswordFile f = PasswordFile.empty().with("alice", h).with("bob", h);
        PasswordHash h2 = PasswordHash.create("pw2".toCharArray(), 1000);
        f = f.with("alice", h2);
        assertThat(f.users()).containsExactly("alice", "bob");
        assertThat(f.without("bob").users()).containsExactly("alice");
        assertThat(f.without("nobody")).isSameAs(f);
        assertThatThrownBy(() -> PasswordFile.empty().with("a:b", h)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PasswordFile.empty().with("a\nb", h)).isInstanceOf(IllegalArgumentException.class);

        Path file = tmp.resolve("sub/passwd");
        f.write(file);
        assertThat(Files.readAllLines(file)).containsExactly("alice:" + h2.encode(), "bob:" + h.encode());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PasswordFile.read(file).lookup("alice")).isEqualTo(h2);
        try (var s = Files.list(file.getParent())) {
            assertThat(s).containsExactly(file); // no temporary file left behind
        }
    }
}
