package io.starling.server.transport;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.starling.broker.auth.CertificateIdentity;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;

/**
 * The names of the client certificate of a TLS connection, once the handshake verified it against the listener's
 * CA (a certificate that does not verify never gets this far: the handshake fails).
 */
public final class ClientCertificates {

    /** SAN types used as names: rfc822Name (1), dNSName (2), uniformResourceIdentifier (6), iPAddress (7). */
    private static final List<Integer> NAME_TYPES = List.of(1, 2, 6, 7);

    private ClientCertificates() {
    }

    /** The identity of the channel's client certificate; {@code null} without TLS or without a certificate. */
    public static CertificateIdentity of(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = ssl.engine().getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate x)) {
            return null;
        }
        return identity(x);
    }

    /** The subject CN (the most specific one if there are several) and the SANs of a certificate. */
    static CertificateIdentity identity(X509Certificate x) {
        String cn = null;
        try {
            List<Rdn> rdns = new LdapName(x.getSubjectX500Principal().getName(X500Principal.RFC2253)).getRdns();
            // LdapName lists the RDNs from the least to the most specific
            for (int i = rdns.size() - 1; i >= 0 && cn == null; i--) {
                if ("CN".equalsIgnoreCase(rdns.get(i).getType())) {
                    cn = String.valueOf(rdns.get(i).getValue());
                }
            }
        } catch (InvalidNameException e) {
            cn = null;
        }
        List<String> sans = new ArrayList<>();
        try {
            Collection<List<?>> alt = x.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (entry.size() >= 2 && NAME_TYPES.contains(entry.get(0)) && entry.get(1) instanceof String s) {
                        sans.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            sans.clear();
        }
        return new CertificateIdentity(cn, sans);
    }
}
