package io.starling.it.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made with the {@code openssl} command in a directory: a CA, a server certificate for
 * 127.0.0.1 and localhost (and a second one, for reload tests), a valid client certificate, an expired one and
 * one from another CA. Keys are RSA 2048 in PKCS#8 PEM.
 */
public final class TestPki {

    public final Path dir;
    public final Path ca;
    public final Path caKey;
    public final Path serverCert;
    public final Path serverKey;
    public final Path server2Cert;
    public final Path server2Key;
    public final Path clientCert;
    public final Path clientKey;
    public final Path expiredCert;
    public final Path expiredKey;
    public final Path otherCa;
    public final Path otherCaKey;
    public final Path foreignCert;
    public final Path foreignKey;
    /** A client certificate with CN "carol-cn" and the SANs DNS:carol.example, email:carol@example.com. */
    public final Path sanCert;
    public final Path sanKey;

    private TestPki(Path dir) {
        this.dir = dir;
        ca = dir.resolve("ca.pem");
        caKey = dir.resolve("ca.key");
        serverCert = dir.resolve("server.pem");
        serverKey = dir.resolve("server.key");
        server2Cert = dir.resolve("server2.pem");
        server2Key = dir.resolve("server2.key");
        clientCert = dir.resolve("client.pem");
        clientKey = dir.resolve("client.key");
        expiredCert = dir.resolve("expired.pem");
        expiredKey = dir.resolve("expired.key");
        otherCa = dir.resolve("other-ca.pem");
        otherCaKey = dir.resolve("other-ca.key");
        foreignCert = dir.resolve("foreign.pem");
        foreignKey = dir.resolve("foreign.key");
        sanCert = dir.resolve("san.pem");
        sanKey = dir.resolve("san.key");
    }

    /** Whether the {@code openssl} command is there. */
    public static boolean opensslAvailable() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public static TestPki create(Path dir) throws IOException, InterruptedException {
        TestPki pki = new TestPki(dir);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("server.ext"),
                "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        Files.writeString(dir.resolve("client.ext"), "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
        Files.writeString(dir.resolve("client-san.ext"), "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
                + "subjectAltName=DNS:carol.example,email:carol@example.com\n");
        pki.selfSigned(pki.ca, pki.caKey, "Starling Test CA");
        pki.selfSigned(pki.otherCa, pki.otherCaKey, "Other Test CA");
        pki.issue(pki.serverCert, pki.serverKey, "starling-server-1", pki.ca, pki.caKey, "server.ext", 30);
        pki.issue(pki.server2Cert, pki.server2Key, "starling-server-2", pki.ca, pki.caKey, "server.ext", 30);
        pki.issue(pki.clientCert, pki.clientKey, "alice", pki.ca, pki.caKey, "client.ext", 30);
        // -days -1: notAfter one day before notBefore, so it expired before it was made
        pki.issue(pki.expiredCert, pki.expiredKey, "expired", pki.ca, pki.caKey, "client.ext", -1);
        pki.issue(pki.foreignCert, pki.foreignKey, "mallory", pki.otherCa, pki.otherCaKey, "client.ext", 30);
        pki.issue(pki.sanCert, pki.sanKey, "carol-cn", pki.ca, pki.caKey, "client-san.ext", 30);
        return pki;
    }

    private void selfSigned(Path cert, Path key, String cn) throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-days", "30", "-subj", "/CN=" + cn,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    }

    private void issue(Path cert, Path key, String cn, Path issuer, Path issuerKey, String ext, int days)
            throws IOException, InterruptedException {
        Path csr = dir.resolve(cn + ".csr");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", csr.toString(),
                "-subj", "/CN=" + cn);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", issuer.toString(), "-CAkey", issuerKey.toString(),
                "-set_serial", Long.toString(System.nanoTime() & 0x7fff_ffff_ffffL), "-out", cert.toString(),
                "-days", Integer.toString(days), "-extfile", dir.resolve(ext).toString());
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl failed: " + cmd + "\n" + out);
        }
    }
}
