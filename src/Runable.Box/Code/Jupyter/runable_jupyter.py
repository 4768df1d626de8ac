"""Lets the box's Jupyter server share the kernels of the box's /code route.

The box writes a connection file for every kernel it runs to RUNABLE_KERNELS_DIR ({kernel_id}.json, with
"runable_pid" once the process runs) and deletes it when the kernel stops. The kernel manager below adopts
those kernels: they are listed under their file's name, their channels websocket talks to the very kernel the
box uses, they vanish with their file or process, and Jupyter never shuts down, restarts or culls them (a
shutdown only forgets the connection, a restart is refused, an interrupt sends SIGINT to the kernel's process
group). Each adopted kernel is also offered as a kernel spec ("Agent: <context>") so that a notebook can be
opened on it. Kernels started from the Jupyter UI stay ordinary Jupyter kernels.
"""

import json
import os
import signal

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from tornado import web

KERNELS_DIR = os.environ.get("RUNABLE_KERNELS_DIR", "")
SPEC_PREFIX = "runable-"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(kernel_id):
    """The connection info of a running box kernel, or None."""
    if not KERNELS_DIR or not kernel_id or "/" in kernel_id or kernel_id.startswith("."):
        return None
    try:
        with open(os.path.join(KERNELS_DIR, kernel_id + ".json"), encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not info.get("key") or not info.get("shell_port"):
        return None
    pid = info.get("runable_pid")
    if isinstance(pid, int) and (pid <= 1 or not _alive(pid)):
        return None
    return info


def _unreadable(kernel_id, known):
    """True when the file is there but could not be read whole, while its known process lives."""
    pid = known.get("runable_pid")
    return os.path.exists(os.path.join(KERNELS_DIR, kernel_id + ".json")) and _read(kernel_id) is None and (
        not isinstance(pid, int) or _alive(pid))


def scan():
    """{kernel_id: info} of every running box kernel."""
    try:
        names = os.listdir(KERNELS_DIR) if KERNELS_DIR else []
    except OSError:
        names = []
    found = {}
    for name in names:
        if name.endswith(".json"):
            info = _read(name[:-5])
            if info is not None:
                found[name[:-5]] = info
    return found


def _adopting(base):
    """A subclass of the server's mapping kernel manager that adopts the box's kernels."""

    class Adopting(base):
        def _adopted(self):
            if not hasattr(self, "_runable_adopted"):
                self._runable_adopted = {}
            return self._runable_adopted

        def _adopt(self, kernel_id, info):
            km = self.kernel_manager_factory(
                parent=self, log=self.log, kernel_name=str(info.get("kernel_name") or "python3"))
            km.load_connection_info(info)
            km.connection_file = os.path.join(KERNELS_DIR, kernel_id + ".json")
            ready = km.ready
            if not ready.done():
                ready.set_result(None)
            self._kernels[kernel_id] = km
            self._adopted()[kernel_id] = info
            self._kernel_connections.setdefault(kernel_id, 0)
            if hasattr(self, "_kernel_ports"):
                self._kernel_ports[kernel_id] = km.ports
            self.start_watching_activity(kernel_id)
            km.execution_state = "idle"
            self.log.info("Adopted the box's kernel %s (%s)", kernel_id, info.get("runable_context_id"))

        def _forget(self, kernel_id):
            self._adopted().pop(kernel_id, None)
            km = self._kernels.pop(kernel_id, None)
            stream = getattr(km, "_activity_stream", None)
            if stream is not None:
                stream.close()
                km._activity_stream = None
            buffers = getattr(self, "_kernel_buffers", None)
            if buffers is not None and kernel_id in buffers:
                for channel in buffers.pop(kernel_id)["channels"].values():
                    channel.close()
            self._kernel_connections.pop(kernel_id, None)
            self.log.info("Forgot the box's kernel %s", kernel_id)

        def _refresh(self, kernel_id=None):
            """Adopts new box kernels and forgets vanished ones (only kernel_id when given)."""
            if getattr(self, "_runable_refreshing", False):
                return
            self._runable_refreshing = True
            try:
                self._refresh_now(kernel_id)
            finally:
                self._runable_refreshing = False

        def _refresh_now(self, kernel_id):
            if kernel_id is not None:
                current = {kernel_id: _read(kernel_id)}
                current = {k: v for k, v in current.items() if v is not None}
                known = [kernel_id] if kernel_id in self._adopted() else []
            else:
                current = scan()
                known = list(self._adopted())
            for kid in known:
                old, new = self._adopted()[kid], current.get(kid)
                if new is None and _unreadable(kid, old):
                    continue  # caught mid-rewrite: judge it on the next look
                if new is None or (new["key"], new["shell_port"]) != (old["key"], old["shell_port"]):
                    self._forget(kid)
                else:
                    self._adopted()[kid] = new  # runable_pid may arrive after the kernel's own rewrite
            for kid, info in current.items():
                if kid not in self._kernels:
                    try:
                        self._adopt(kid, info)
                    except Exception:  # an odd file must not break the server
                        self.log.exception("Could not adopt the box's kernel %s", kid)
                        self._forget(kid)

        def is_adopted(self, kernel_id):
            return kernel_id in self._adopted()

        def __contains__(self, kernel_id):
            if kernel_id in self._adopted() or kernel_id not in self._kernels:
                self._refresh(kernel_id)
            return kernel_id in self._kernels

        def list_kernels(self):
            self._refresh()
            return super().list_kernels()

        async def start_kernel(self, kernel_id=None, path=None, **kwargs):
            name = kwargs.get("kernel_name") or ""
            if kernel_id is None and name.startswith(SPEC_PREFIX) and name[len(SPEC_PREFIX):] in self:
                return name[len(SPEC_PREFIX):]
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)

        def kernel_model(self, kernel_id):
            model = super().kernel_model(kernel_id)
            if self.is_adopted(kernel_id):
                model["name"] = SPEC_PREFIX + kernel_id  # its kernel spec: "Agent: <context> (...)"
            return model

        def start_buffering(self, kernel_id, session_key, channels):
            if self.is_adopted(kernel_id):
                # The agent may run for hours with nobody watching: keep no replay buffer of its output.
                for stream in channels.values():
                    stream.close()
                return None
            return super().start_buffering(kernel_id, session_key, channels)

        def shutdown_kernel(self, kernel_id, now=False, restart=False):
            if self.is_adopted(kernel_id):
                # The box owns it: closing a notebook or a culler must not kill the agent's kernel.
                self.log.info("Not shutting down the box's kernel %s (it belongs to /code)", kernel_id)
                return None
            return super().shutdown_kernel(kernel_id, now=now, restart=restart)

        def restart_kernel(self, kernel_id, now=False):
            if self.is_adopted(kernel_id):
                raise web.HTTPError(409, "This kernel belongs to the box's /code context "
                                    "and is restarted there (POST /code/contexts/{id}/restart).")
            return super().restart_kernel(kernel_id, now=now)

        def interrupt_kernel(self, kernel_id):
            if self.is_adopted(kernel_id):
                self._signal(kernel_id, signal.SIGINT)
                return None
            return super().interrupt_kernel(kernel_id)

        def signal_kernel(self, kernel_id, signum):
            if self.is_adopted(kernel_id):
                self._signal(kernel_id, signum)
                return None
            return super().signal_kernel(kernel_id, signum)

        def is_alive(self, kernel_id):
            if self.is_adopted(kernel_id):
                return kernel_id in self
            return super().is_alive(kernel_id)

        def _signal(self, kernel_id, signum):
            pid = self._adopted()[kernel_id].get("runable_pid")
            if not isinstance(pid, int) or pid <= 1:
                self.log.warning("The box's kernel %s has no runable_pid to signal", kernel_id)
                return
            try:
                os.killpg(pid, signum)  # the box starts each kernel as the leader of its own group
            except OSError:
                try:
                    os.kill(pid, signum)
                except OSError:
                    pass

    Adopting.__name__ = Adopting.__qualname__ = "Adopting" + base.__name__
    return Adopting


try:  # notebook 6 (serves the notebook UI)
    from notebook.services.kernels.kernelmanager import MappingKernelManager as _NotebookManager

    AdoptingKernelManager = _adopting(_NotebookManager)
except ImportError:
    pass

try:  # jupyter_server (the API only, or the UI of notebook 7)
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager as _ServerManager

    AdoptingServerKernelManager = _adopting(_ServerManager)
except ImportError:
    pass


class AdoptingKernelSpecManager(KernelSpecManager):
    """Offers every box kernel as a kernel spec named runable-{kernel_id}, so a notebook can be opened on it."""

    def _adopted_spec(self, kernel_id, info):
        name = str(info.get("kernel_name") or "python3")
        try:
            base = super().get_kernel_spec(name)
        except (NoSuchKernel, KeyError):
            base = KernelSpec(argv=[], display_name=name, language="python" if "python" in name else name)
        context = info.get("runable_context_id") or kernel_id[:8]
        return KernelSpec(resource_dir=base.resource_dir, argv=list(base.argv), language=base.language,
                          display_name=f"Agent: {context} ({base.display_name})", metadata={"runable_kernel_id": kernel_id})

    def find_kernel_specs(self):
        specs = super().find_kernel_specs()
        for kernel_id, info in scan().items():
            specs[SPEC_PREFIX + kernel_id] = self._adopted_spec(kernel_id, info).resource_dir
        return specs

    def get_kernel_spec(self, kernel_name):
        if kernel_name.startswith(SPEC_PREFIX):
            kernel_id = kernel_name[len(SPEC_PREFIX):]
            info = _read(kernel_id)
            if info is None:
                raise NoSuchKernel(kernel_name)
            return self._adopted_spec(kernel_id, info)
        return super().get_kernel_spec(kernel_name)


def main(argv):
    """runable_jupyter.py PORT BASE_URL ROOT_DIR: serves Jupyter on 127.0.0.1:PORT (token in JUPYTER_TOKEN).

    The notebook UI of notebook 6 when it is installed, else jupyter_server (whose UI, if any, comes from its
    extensions, such as notebook 7).
    """
    port, base_url, root = argv
    try:
        if os.environ.get("RUNABLE_JUPYTER_APP") == "server":
            raise ImportError("jupyter_server asked for")
        from notebook import notebookapp as app

        section, root_name, manager = "NotebookApp", "notebook_dir", "AdoptingKernelManager"
    except ImportError:
        from jupyter_server import serverapp as app

        section, root_name, manager = "ServerApp", "root_dir", "AdoptingServerKernelManager"
    settings = {
        "ip": "127.0.0.1", "port": port, "port_retries": "0", "base_url": base_url, root_name: root,
        "open_browser": "False", "allow_root": "True", "quit_button": "False",
        # Only the box reaches this server (on loopback, with the token), behind the box's own key; the
        # browser's Origin is the box's or the orchestrator's, never this port.
        "allow_origin": "*",
        "kernel_manager_class": f"runable_jupyter.{manager}",
        "kernel_spec_manager_class": "runable_jupyter.AdoptingKernelSpecManager",
    }
    app.launch_new_instance(argv=[f"--{section}.{name}={value}" for name, value in settings.items()])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
