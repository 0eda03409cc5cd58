"""A system tray host on the test's D-Bus session bus.

Linux desktops show tray icons through the StatusNotifierItem protocol: the
desktop's panel owns `org.kde.StatusNotifierWatcher`, apps (through
libayatana-appindicator) register their item with it, and the panel reads the
item's menu over `com.canonical.dbusmenu` and sends it clicks. Xvfb has no
panel, so this is one: the watcher the app registers with, and the menu calls
a panel makes. The app's side (libayatana-appindicator, libdbusmenu, Tauri's
tray) is the real one that runs on an owner's desktop.
"""

import asyncio
import threading
import time

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"
PROPERTIES = "org.freedesktop.DBus.Properties"


class TrayHost:
    """Runs the watcher on its own thread and event loop; the test calls the
    blocking methods below."""

    def __init__(self):
        self.items = []  # (bus name, object path) of registered items
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the tray host could not join the session bus")

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self):
        self.bus = await MessageBus(bus_type=BusType.SESSION).connect()
        self.bus.add_message_handler(self._handle)
        await self.bus.request_name(WATCHER)

    def _handle(self, msg):
        if msg.message_type != MessageType.METHOD_CALL or msg.path != WATCHER_PATH:
            return None
        if msg.interface == WATCHER and msg.member == "RegisterStatusNotifierItem":
            # An item names itself by object path (on its own connection) or
            # by bus name (at the protocol's default path).
            arg = msg.body[0]
            item = (msg.sender, arg) if arg.startswith("/") else (arg, "/StatusNotifierItem")
            if item not in self.items:
                self.items.append(item)
            return Message.new_method_return(msg)
        if msg.interface == WATCHER and msg.member == "RegisterStatusNotifierHost":
            return Message.new_method_return(msg)
        if msg.interface == PROPERTIES and msg.member in ("Get", "GetAll"):
            props = {
                "IsStatusNotifierHostRegistered": Variant("b", True),
                "ProtocolVersion": Variant("i", 0),
                "RegisteredStatusNotifierItems": Variant("as", [f"{n}{p}" for n, p in self.items]),
            }
            if msg.member == "GetAll":
                return Message.new_method_return(msg, "a{sv}", [props])
            if msg.body[1] in props:
                return Message.new_method_return(msg, "v", [props[msg.body[1]]])
            return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownProperty", msg.body[1])
        return None

    def _call(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _method(self, destination, path, interface, member, signature="", body=()):
        reply = await self.bus.call(
            Message(destination=destination, path=path, interface=interface, member=member, signature=signature, body=list(body))
        )
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{interface}.{member}: {reply.error_name} {reply.body}")
        return reply.body

    def wait_for_item(self, timeout=20):
        """The first registered item, as (bus name, path); waits for it."""
        deadline = time.monotonic() + timeout
        while not self.items:
            if time.monotonic() > deadline:
                raise AssertionError("no tray item was registered with the tray host")
            time.sleep(0.1)
        return self.items[0]

    def item_property(self, name):
        bus_name, path = self.wait_for_item()
        (value,) = self._call(self._method(bus_name, path, PROPERTIES, "Get", "ss", (ITEM, name)))
        return value.value

    def _menu_address(self):
        """Where the item's menu is served: (bus name, object path)."""
        bus_name, _ = self.wait_for_item()
        return bus_name, self.item_property("Menu")

    def menu(self, address=None):
        """The item's menu in order, as {label: {"id", "enabled"}} (mnemonic
        underscores removed; separators have no label and are left out)."""
        bus_name, menu_path = address or self._menu_address()
        _revision, layout = self._call(self._method(bus_name, menu_path, MENU, "GetLayout", "iias", (0, -1, [])))
        entries = {}
        for child in layout[2]:
            item_id, props, _children = child.value
            if "label" in props:
                enabled = props["enabled"].value if "enabled" in props else True
                entries[props["label"].value.replace("_", "")] = {"id": item_id, "enabled": enabled}
        return entries

    def click(self, label):
        """Clicks a menu entry as the panel does when the owner picks it."""
        bus_name, menu_path = address = self._menu_address()
        entries = self.menu(address)
        if label not in entries:
            raise AssertionError(f"the tray menu has no {label!r}: {sorted(entries)}")
        self._call(
            self._method(bus_name, menu_path, MENU, "Event", "isvu", (entries[label]["id"], "clicked", Variant("i", 0), int(time.time())))
        )

    def close(self):
        async def stop():
            self.bus.disconnect()

        try:
            self._call(stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
