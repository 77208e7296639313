# Starling MQTT broker on an Eclipse Temurin JRE, from the release tarball that `mvn package` builds:
#   mvn -B package -DskipTests
#   docker build -t starling .
#   docker run -p 1883:1883 -v starling-data:/var/lib/starling starling
# Inside a container the broker must listen on every interface; without a password file that needs
# `allow-anonymous: true`, so mount a config of your own (see config/starling.yaml in the tarball) for anything
# but a trial, e.g. -v ./starling.yaml:/etc/starling/starling.yaml:ro with a password-file.
FROM eclipse-temurin:17-jre

ARG STARLING_VERSION=0.1.0-SNAPSHOT

RUN groupadd --system starling \
 && useradd --system --gid starling --home-dir /var/lib/starling --shell /usr/sbin/nologin starling \
 && mkdir -p /opt/starling /etc/starling /var/lib/starling \
 && chown starling:starling /var/lib/starling

# ADD unpacks a local tar.gz
ADD starling-dist/target/starling-${STARLING_VERSION}.tar.gz /opt/
RUN mv /opt/starling-${STARLING_VERSION}/* /opt/starling/ && rmdir /opt/starling-${STARLING_VERSION} \
 && printf '%s\n' \
      '# the container default: MQTT over TCP on every interface, anonymous clients allowed' \
      'listeners:' \
      '  - {type: tcp, bind: 0.0.0.0, port: 1883, allow-anonymous: true}' \
      > /etc/starling/starling.yaml \
 && ln -s /opt/starling/bin/starling /usr/local/bin/starling

USER starling
WORKDIR /var/lib/starling
VOLUME /var/lib/starling
EXPOSE 1883
# the class-data-sharing archives of pub, sub, ... (the installation is read-only to the starling user; keep them out
# of the data volume)
ENV STARLING_CACHE_DIR=/tmp/starling-cds
ENTRYPOINT ["/opt/starling/bin/starling"]
CMD ["broker", "--config", "/etc/starling/starling.yaml", "--data-dir", "/var/lib/starling"]
