# Shared by scripts/test-nginx.sh and scripts/test-nginx-cluster.sh (sourced,
# after `set -euo pipefail` and a `fail` function): find nginx, pick free
# ports, and write the wrapper nginx.conf that keeps everything nginx
# writes under a temp folder.

# Sets NGINX to the nginx binary; installs nginx-light (or nginx) with
# apt-get when it is missing and this is root.
find_nginx() {
  NGINX=$(command -v nginx || true)
  [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
  if [[ -z $NGINX ]]; then
    [[ $(id -u) -eq 0 ]] || fail "nginx is missing; install it as root: apt-get install nginx-light"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
    NGINX=/usr/sbin/nginx
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# write_nginx_conf DIR SITE_CONF WORKER_CONNECTIONS: DIR/nginx.conf runs
# nginx in the foreground as the current user, with its pid, logs and temp
# files in DIR, serving SITE_CONF.
write_nginx_conf() {
  local dir=$1 site=$2 workers=$3 user_line="" temp_paths m
  [[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
  temp_paths="client_body_temp_path $dir/client_body; proxy_temp_path $dir/proxy;"
  for m in fastcgi uwsgi scgi; do
    "$NGINX" -V 2>&1 | grep -q -- "--without-http_${m}_module" || temp_paths+=" ${m}_temp_path $dir/$m;"
  done
  cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections $workers; }
http {
    access_log $dir/access.log;
    $temp_paths
    include $site;
}
CONF
}
