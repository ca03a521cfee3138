"""Polish (first) and English texts of the Hiperus C5 panel, added to the frame's shared catalogue.

Keys are the English texts, except words whose Polish form depends on context or that another plugin
might translate differently: call types (``calltype:...``) and search hit kinds (``hit:...``) are
prefixed, with an English entry so English pages read naturally.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "calltype:incoming": "incoming",
    "calltype:outgoing": "outgoing",
    "calltype:disa": "DISA",
    "calltype:forwarded": "forwarded",
    "calltype:internal": "internal",
    "calltype:vpbx": "virtual PBX",
    "hit:account": "account",
    "hit:number": "number",
    "hit:terminal": "terminal",
}

PL: dict[str, str] = {
    "calltype:incoming": "przychodzące",
    "calltype:outgoing": "wychodzące",
    "calltype:disa": "DISA",
    "calltype:forwarded": "przekierowane",
    "calltype:internal": "wewnętrzne",
    "calltype:vpbx": "wirtualna centrala",
    "hit:account": "konto",
    "hit:number": "numer",
    "hit:terminal": "terminal",
    "Hiperus C5: accounts": "Hiperus C5: lista kont",
    "Hiperus C5: terminals": "Hiperus C5: lista terminali",
    "Hiperus C5: numbers": "Hiperus C5: numery PSTN",
    "Hiperus C5: number ranges": "Hiperus C5: zakresy numerów",
    "Hiperus C5: price lists and subscriptions": "Hiperus C5: cenniki i abonamenty",
    "Hiperus C5: search": "Hiperus C5: wyszukiwanie",
    "Search text may not contain emoji or other characters beyond U+FFFF.": (
        "Szukany tekst nie może zawierać emoji ani innych znaków spoza U+FFFF."
    ),
    "Hiperus C5: new account": "Hiperus C5: nowe konto",
    "Hiperus C5 VoIP": "Hiperus C5 VoIP",
    "Accounts": "Konta",
    "Account": "Konto",
    "New VoIP account": "Nowe konto VoIP",
    "VoIP account": "Konto VoIP",
    "Terminals": "Terminale",
    "Terminal": "Terminal",
    "PSTN numbers": "Numery PSTN",
    "Numbers": "Numery",
    "Number": "Numer",
    "Number ranges": "Zakresy numerów",
    "Price lists and subscriptions": "Cenniki i abonamenty",
    "Price lists": "Cenniki",
    "Subscriptions": "Abonamenty",
    "Account, number or terminal": "Konto, numer lub terminal",
    "LMS customer": "Klient LMS",
    "linked": "powiązane",
    "not linked": "niepowiązane",
    "Invoices issued by": "Faktury wystawia",
    "nobody": "nikt",
    "Payment": "Płatność",
    "postpaid": "abonament (postpaid)",
    "prepaid": "przedpłata (prepaid)",
    "Price list": "Cennik",
    "none": "brak",
    "Sort": "Sortowanie",
    "name A-Z": "nazwa A-Z",
    "name Z-A": "nazwa Z-A",
    "ID ascending": "ID rosnąco",
    "ID descending": "ID malejąco",
    "No VoIP accounts match.": "Brak kont VoIP spełniających kryteria.",
    "Edit": "Edytuj",
    "Delete": "Usuń",
    "Cancel": "Anuluj",
    "New terminal": "Nowy terminal",
    "New number": "Nowy numer",
    "Refresh from the platform": "Odśwież z platformy",
    "Delete the account": "Usuń konto",
    "E-mail": "E-mail",
    "Default price list": "Domyślny cennik",
    "Active": "Aktywne",
    "no such LMS customer": "nie ma takiego klienta w LMS",
    "Not linked to an LMS customer.": "Konto nie jest powiązane z klientem LMS.",
    "LMS customer ID": "ID klienta LMS",
    "Link": "Powiąż",
    "Leave empty to unlink.": "Puste pole usuwa powiązanie.",
    "SIP login": "Login SIP",
    "SIP password": "Hasło SIP",
    "Subscription": "Abonament",
    "Emergency location": "Lokalizacja alarmowa",
    "No terminals.": "Brak terminali.",
    "Main number": "Numer główny",
    "Voicemail": "Poczta głosowa",
    "Virtual fax": "Wirtualny fax",
    "No numbers.": "Brak numerów.",
    "End users": "Użytkownicy końcowi",
    "End user": "Użytkownik końcowy",
    "Administrator": "Administrator",
    "Faxes": "Faksy",
    "No end users.": "Brak użytkowników końcowych.",
    "End users are created with a number (its form has fields for a new end user); the platform offers no "
    "other way to add, change or remove them.": (
        "Użytkowników końcowych tworzy się razem z numerem (formularz numeru ma pola nowego użytkownika); "
        "platforma nie udostępnia innego sposobu ich dodawania, zmiany ani usuwania."
    ),
    "Calls in {month} {year}": "Połączenia: {month} {year}",
    "Year": "Rok",
    "Month": "Miesiąc",
    "Show": "Pokaż",
    "Call list": "Lista połączeń",
    "Calls": "Połączenia",
    "Cost (net)": "Koszt (netto)",
    "Cost (gross)": "Koszt (brutto)",
    "No calls in this month.": "Brak połączeń w tym miesiącu.",
    "Total": "Razem",
    "January": "styczeń",
    "February": "luty",
    "March": "marzec",
    "April": "kwiecień",
    "May": "maj",
    "June": "czerwiec",
    "July": "lipiec",
    "August": "sierpień",
    "September": "wrzesień",
    "October": "październik",
    "November": "listopad",
    "December": "grudzień",
    "Call type": "Rodzaj połączenia",
    "Connected": "Zestawione",
    "Start": "Początek",
    "Caller": "Dzwoniący",
    "Called number": "Numer docelowy",
    "Destination": "Kierunek",
    "No calls match.": "Brak połączeń spełniających kryteria.",
    "Billing data": "Dane do faktury",
    "Street": "Ulica",
    "House number": "Nr domu",
    "Flat number": "Nr lokalu",
    "Postcode": "Kod pocztowy",
    "City": "Miejscowość",
    "Country": "Kraj",
    "Billing name": "Nazwa na fakturze",
    "Billing street": "Ulica (faktura)",
    "Billing house number": "Nr domu (faktura)",
    "Billing flat number": "Nr lokalu (faktura)",
    "Billing postcode": "Kod pocztowy (faktura)",
    "Billing city": "Miejscowość (faktura)",
    "Billing country": "Kraj (faktura)",
    "REGON / PESEL": "REGON / PESEL",
    "Consent to data processing": "Zgoda na przetwarzanie danych",
    "Subscription from": "Abonament od",
    "Subscription to": "Abonament do",
    "Screen numbers": "Prezentacja numeru (screening)",
    "T.38 fax": "Fax T.38",
    "No emergency location": "Bez lokalizacji alarmowej",
    "Installation address": "Adres instalacji",
    "Province / county / borough, reported to emergency services.": (
        "Województwo / powiat / gmina, przekazywane służbom ratunkowym."
    ),
    "Kept only in LMS.": "Zapisywane tylko w LMS.",
    "Options": "Opcje",
    "CLIR (hide the number)": "CLIR (ukrywanie numeru)",
    "Country code": "Kod kraju",
    "New end user's e-mail": "E-mail nowego użytkownika końcowego",
    "New end user's password": "Hasło nowego użytkownika końcowego",
    "First free number of the enabled ranges: {number}": "Pierwszy wolny numer z włączonych zakresów: {number}",
    "Empty: the platform picks its first free number.": "Puste pole: platforma przydzieli pierwszy wolny numer.",
    "the platform picks its first free number": "przydzieli platforma (pierwszy wolny)",
    "Internal calls charged": "Płatne połączenia wewnętrzne",
    "None imported yet.": "Jeszcze nic nie zaimportowano.",
    "Price": "Cena",
    "Invoiced (net)": "Na fakturze (netto)",
    "First free number of the enabled ranges": "Pierwszy wolny numer z włączonych zakresów",
    "Range": "Zakres",
    "Description": "Opis",
    "Used": "Zajęte",
    "Free": "Wolne",
    "free": "wolny",
    "Offered for new numbers": "Oferowany dla nowych numerów",
    "Offer numbers from this range": "Oferuj numery z tego zakresu",
    "Disable": "Wyłącz",
    "Enable": "Włącz",
    "Found": "Znaleziono",
    "Nothing found.": "Nic nie znaleziono.",
    "Only the first {limit} hits are shown.": "Pokazano tylko pierwsze {limit} wyników.",
    "The customer has no Hiperus VoIP account.": "Klient nie ma konta VoIP Hiperus.",
    "New VoIP account for this customer": "Nowe konto VoIP dla tego klienta",
    "Nothing changed: the Hiperus platform answered: {error}": (
        "Nic nie zmieniono, platforma Hiperus odpowiedziała: {error}"
    ),
    "Saved on the Hiperus platform, but reading it back failed ({error}); the local data catches up with the "
    "next refresh or import.": (
        "Zapisano na platformie Hiperus, ale odczyt zmian się nie powiódł ({error}); dane lokalne zostaną "
        "uzupełnione przy następnym odświeżeniu lub imporcie."
    ),
    "The platform could not be read: {error}": "Nie udało się odczytać danych z platformy: {error}",
    "Refreshed from the Hiperus platform.": "Odświeżono dane z platformy Hiperus.",
    "VoIP account #{id} created.": "Utworzono konto VoIP #{id}.",
    "VoIP account saved.": "Zapisano konto VoIP.",
    "VoIP account {name} deleted.": "Usunięto konto VoIP {name}.",
    "Give an LMS customer ID (or leave it empty to unlink).": "Podaj ID klienta LMS (puste pole usuwa powiązanie).",
    "No such LMS customer.": "Nie ma takiego klienta w LMS.",
    "Linked to LMS customer #{id}.": "Powiązano z klientem LMS #{id}.",
    "Unlinked from the LMS customer.": "Usunięto powiązanie z klientem LMS.",
    "Terminal {name} created.": "Utworzono terminal {name}.",
    "Terminal {name} saved.": "Zapisano terminal {name}.",
    "Terminal {name} deleted.": "Usunięto terminal {name}.",
    "The account has no terminal yet: add one first.": "Konto nie ma jeszcze terminala: najpierw dodaj terminal.",
    "Number added.": "Dodano numer.",
    "Number saved.": "Zapisano numer.",
    "Number {number} deleted.": "Usunięto numer {number}.",
    "Give the number.": "Podaj numer.",
    "Range saved.": "Zapisano zakres.",
    "Not a date (YYYY-MM-DD).": "To nie jest data (RRRR-MM-DD).",
    "The end is before the start.": "Koniec jest przed początkiem.",
    "The account must be linked to an LMS customer (hiperus_c5.force_relationship).": (
        "Konto musi być powiązane z klientem LMS (hiperus_c5.force_relationship)."
    ),
    "The VoIP account must be linked to an LMS customer to be invoiced by LMS.": (
        "Konto VoIP musi być powiązane z klientem w LMS, aby LMS wystawiał faktury."
    ),
    "Choose the emergency location, or tick that there is none.": (
        "Wybierz lokalizację alarmową albo zaznacz, że jej brak."
    ),
    "A new end user needs a password.": "Nowy użytkownik końcowy musi mieć hasło.",
    "Letters, digits, _ . @ + - only.": "Tylko litery, cyfry i znaki _ . @ + -.",
    "Digits only.": "Tylko cyfry.",
    "This field is required.": "To pole jest wymagane.",
    "Invalid email address.": "Nieprawidłowy adres e-mail.",
    "Not a valid choice.": "Nieprawidłowy wybór.",
    "Not a valid integer value.": "To nie jest liczba całkowita.",
    # job counters (plugin.COUNTER_LABELS)
    "VoIP accounts": "Konta VoIP",
    "Call records stored": "Zapisane rekordy połączeń",
    "Call records without a terminal": "Rekordy połączeń bez terminala",
    "Call records of an unknown terminal": "Rekordy połączeń nieznanego terminala",
    "Invoices issued": "Wystawione faktury",
    "Invoice lines": "Pozycje faktur",
    "Already invoiced (skipped)": "Już zafakturowane (pominięte)",
    "API calls": "Wywołania API",
    # the plugin and its settings (plugin.py)
    "VoIP accounts, terminals, numbers and calls of the Hiperus C5 platform; invoices for the calls.": (
        "Konta VoIP, terminale, numery i połączenia platformy Hiperus C5; faktury za połączenia."
    ),
    "API login (reseller user name)": "Login API (nazwa użytkownika resellera)",
    "API password": "Hasło API",
    "Reseller's platform domain": "Domena platformy resellera",
    "hiperusapi.php endpoint": "Adres hiperusapi.php",
    "Time zone of the platform's timestamps (CDR start times) and of billing dates": (
        "Strefa czasowa znaczników czasu platformy (początków połączeń) i dat billingu"
    ),
    "At most this many API calls ...": "Najwyżej tyle wywołań API ...",
    "... in this many seconds": "... w ciągu tylu sekund",
    "CDR ranges are fetched in pieces of this many months (the platform slows down on long ranges; 6 recommended)": (
        "Połączenia są pobierane w częściach po tyle miesięcy (platforma zwalnia przy długich okresach; zalecane 6)"
    ),
    "Directory for the throttle file shared by cron and web": (
        "Katalog pliku ograniczania wywołań wspólnego dla crona i panelu WWW"
    ),
    "false: append to this month's invoice of the customer": "false: dopisz do tegomiesięcznej faktury klienta",
    "Who invoices accounts the platform flags issue_invoice: 1 Hiperus, 2 LMS": (
        "Kto fakturuje konta oznaczone na platformie jako issue_invoice: 1 Hiperus, 2 LMS"
    ),
    "Default for invoice --leftmonth": "Wartość domyślna invoice --leftmonth",
    "VAT %; default phpui.default_taxrate, else 23": "VAT %; domyślnie phpui.default_taxrate, a bez niego 23",
    "Number plan of generated invoices": "Plan numeracji wystawianych faktur",
    "PKWiU code on invoice lines": "Kod PKWiU w pozycjach faktur",
    "Unit on invoice lines": "Jednostka w pozycjach faktur",
    "Written by import --wlr": "Zapisywane przez import --wlr",
    # names that stay as they are
    "Hiperus": "Hiperus",
    "LMS": "LMS",
    "NIP": "NIP",
    "WLR": "WLR",
    "DISA": "DISA",
    # job counters without a label (the name spelled out)
    "Accounts deleted": "Usunięte konta",
    "Terminals deleted": "Usunięte terminale",
    "Numbers deleted": "Usunięte numery",
    "End users deleted": "Usunięci użytkownicy końcowi",
    "Cdrs deleted": "Usunięte rekordy połączeń",
    "Ranges": "Zakresy numeracji",
    "Range numbers": "Numery z zakresów",
    "Wlr": "WLR",
    "Cdrs bad": "Błędne rekordy połączeń",
    # job messages (jobs.py); "{...}" is a value of the run
    "{kind}: record skipped: {error}": "{kind}: pominięto rekord: {error}",
    "GetCustomerList returned no accounts; local accounts left as they are": (
        "GetCustomerList nie zwróciło żadnych kont; lokalne konta pozostawiono bez zmian"
    ),
    "{count} account(s) have issue_invoice=t on the platform but hiperus_c5.invoice_source is 0, so nobody "
    "invoices them; set hiperus_c5.invoice_source = 2 to invoice them from LMS": (
        "konta z issue_invoice=t na platformie, gdy hiperus_c5.invoice_source wynosi 0 (nikt ich nie fakturuje): "
        "{count}; ustaw hiperus_c5.invoice_source = 2, aby fakturować je z LMS"
    ),
    "GetPlatformNumberingRange returned no ranges; local ranges and usage left as they are": (
        "GetPlatformNumberingRange nie zwróciło zakresów; lokalne zakresy i ich wykorzystanie pozostawiono bez zmian"
    ),
    "{count} CDR(s) without a terminal name were stored with no account (not invoiced), e.g. {examples}": (
        "rekordy połączeń bez nazwy terminala zapisane bez konta (niezafakturowane): {count}, np. {examples}"
    ),
    "{count} CDR(s) name a terminal unknown here (run --terminals first?); stored with no account, e.g. {examples}": (
        "rekordy połączeń wskazujące nieznany tu terminal (najpierw --terminals?), zapisane bez konta: {count}, "
        "np. {examples}"
    ),
    "{count} CDR(s) could not be read and were skipped: {examples}": (
        "rekordy połączeń, których nie dało się odczytać (pominięte): {count}: {examples}"
    ),
    "billing options given without -b/--billing are ignored (as the PHP script did)": (
        "opcje billingu podane bez -b/--billing są pomijane (jak w skrypcie PHP)"
    ),
    "no accounts in hv_customers: terminals, numbers and end users skipped (import -c first)": (
        "brak kont w hv_customers: pominięto terminale, numery i użytkowników końcowych (najpierw import -c)"
    ),
    "account {account} ({name}) is set to LMS invoicing but is not linked to an existing LMS customer "
    "(ext_billing_id={customer}); not invoiced: {total} zł": (
        "konto {account} ({name}) ma fakturowanie w LMS, ale nie jest powiązane z istniejącym klientem LMS "
        "(ext_billing_id={customer}); niezafakturowane: {total} zł"
    ),
    # permissions (plugin.py)
    "Hiperus C5: full access": "Hiperus C5: pełny dostęp",
    "Hiperus C5: read only (lists, info, billing, ranges, search)": (
        "Hiperus C5: tylko odczyt (listy, informacje, billing, zakresy, wyszukiwanie)"
    ),
    # connection test steps (operator.py)
    "session confirmed by CheckLogin": "sesja potwierdzona przez CheckLogin",
    "services: {services}": "usługi: {services}",
    "read the price lists": "odczytano cenniki",
    "{count} price list(s)": "cenników: {count}",
    "Appended": "Dopisane do istniejących faktur",
}
