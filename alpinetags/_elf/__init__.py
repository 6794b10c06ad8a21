"""The ELF readers: headers, the dynamic section, ELF objects in wheels, folders and archives. Internal."""
