"""The switch's configuration served over mod_xml_curl (``POST /fsapi/xml_curl``)."""
