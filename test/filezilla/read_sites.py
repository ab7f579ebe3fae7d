"""Reads a FileZilla Site Manager file the way FileZilla 3 does, and prints the sites as JSON.

A port, to Python's standard XML parser, of the rules of FileZilla's own reader: CXmlFile (root
<FileZilla3>), site_manager::Load (<Servers>, a <Folder> named by its text, <Server> children),
ReadServerElement and GetServer (src/commonui/xml_file.cpp). A <Server> that FileZilla would skip
is reported with the reason instead. Elements FileZilla never reads are reported too: FileZilla
ignores them silently, so a file relying on one means something else to FileZilla than to its
author (the lab's old export relied on an <EncryptionType> that does not exist).

Usage: python3 read_sites.py FILE  ->  {"sites": [...], "errors": [...]}
"""
import base64
import json
import sys
import xml.etree.ElementTree as ET

# FileZilla's ServerProtocol (src/include/server.h): values never change, saved sites rely on them.
PROTOCOLS = {0: "FTP", 1: "SFTP", 2: "HTTP", 3: "FTPS", 4: "FTPES", 5: "HTTPS", 6: "INSECURE_FTP"}
PROTOCOL_MAX = 21  # the enum goes on (S3, WEBDAV… STORJ_GRANT=21 in 3.6x); above it a site is refused
SERVERTYPE_MAX = 11  # ServerType: DEFAULT=0 … DOS_FWD_SLASHES=10
LOGONTYPES = ["anonymous", "normal", "ask", "interactive", "account", "key", "profile"]
# Every child of <Server> that GetServer and ReadServerElement read.
KNOWN = {
    "Host", "Port", "Protocol", "Type", "Logontype", "User", "Pass", "Keyfile", "Account",
    "TimezoneOffset", "PasvMode", "MaximumMultipleConnections", "EncodingType", "CustomEncoding",
    "PostLoginCommands", "BypassProxy", "Name", "Parameter", "Comments", "Colour", "LocalDir",
    "RemoteDir", "SyncBrowsing", "DirectoryComparison", "Bookmark",
}


def text(node, name):
    child = node.find(name)
    return (child.text or "") if child is not None else ""


def as_int(value):
    try:
        return int(value.strip())
    except ValueError:
        return 0  # pugixml's as_int() of a non-number


def read_server(node, folder):
    """GetServer: returns (site, None) or (None, why FileZilla skips it)."""
    host = text(node, "Host")
    if not host:
        return None, "no Host"
    port = as_int(text(node, "Port"))
    if not 1 <= port <= 65535:
        return None, f"Port {port} out of 1-65535"
    protocol = as_int(text(node, "Protocol"))
    if not 0 <= protocol <= PROTOCOL_MAX:
        return None, f"Protocol {protocol} unknown"
    server_type = as_int(text(node, "Type"))
    if not 0 <= server_type < SERVERTYPE_MAX:
        return None, f"Type {server_type} unknown"
    logon = as_int(text(node, "Logontype"))
    if not 0 <= logon < len(LOGONTYPES):
        return None, f"Logontype {logon} unknown"
    site = {
        "folder": folder,
        "host": host,
        "port": port,
        "protocol": PROTOCOLS.get(protocol, str(protocol)),
        "type": server_type,
        "logontype": LOGONTYPES[logon],
        "user": None,
        "password": None,
    }
    if LOGONTYPES[logon] != "anonymous":
        site["user"] = text(node, "User")
        if not site["user"] and LOGONTYPES[logon] not in ("interactive", "ask"):
            return None, "no User"
        if LOGONTYPES[logon] in ("normal", "account"):
            pass_node = node.find("Pass")
            if pass_node is not None:
                encoding = pass_node.get("encoding", "")
                if encoding == "base64":
                    site["password"] = base64.b64decode(pass_node.text or "").decode("utf-8")
                elif encoding == "":
                    site["password"] = pass_node.text or ""
                else:  # "crypt" needs the master password; anything else: FileZilla asks
                    site["logontype"] = "ask"
    mode = text(node, "PasvMode")
    site["pasv"] = mode if mode in ("MODE_PASSIVE", "MODE_ACTIVE") else "MODE_DEFAULT"
    name = text(node, "Name").strip() or (node.text or "").strip()
    if not name:
        return None, "no Name"  # ReadServerElement refuses a site without a name
    site["name"] = name
    unknown = sorted({c.tag for c in node} - KNOWN)
    return site, (f"{name}: FileZilla never reads {', '.join(unknown)}" if unknown else None)


def main(path):
    sites, errors = [], []
    root = ET.parse(path).getroot()
    if root.tag != "FileZilla3":
        errors.append(f"root element is <{root.tag}>, FileZilla wants <FileZilla3>")
    servers = root.find("Servers")
    if servers is None:
        errors.append("no <Servers>: FileZilla's import finds nothing to import")
        servers = ET.Element("Servers")

    def walk(element, folder):
        for child in element:
            if child.tag == "Folder":
                name = (child.text or "").strip()
                if not name:
                    errors.append("a <Folder> without a name is skipped")
                    continue
                walk(child, f"{folder}/{name}" if folder else name)
            elif child.tag == "Server":
                site, why = read_server(child, folder)
                if site:
                    sites.append(site)
                if why:
                    errors.append(why if site else f"a site is skipped: {why}")

    walk(servers, "")
    print(json.dumps({"sites": sites, "errors": errors}))


main(sys.argv[1])
