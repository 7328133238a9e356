app-name = Lots
app-tagline = Hembesök och handlingsplaner för boendestöd

## Status line
status-synced = Synkat
status-waiting = { $count ->
    [one] 1 ändring väntar
   *[other] { $count } ändringar väntar
}
status-offline-since = Offline sedan { $time }
status-connecting = Ansluter…
status-conflicts = { $count ->
    [one] 1 konflikt att granska
   *[other] { $count } konflikter att granska
}
status-saving = Sparar…
status-saved = Sparat på enheten
status-new-version = Ny version finns
status-reload = Ladda om

## Sign in
signin-title = Logga in
signin-username = Användarnamn
signin-password = Lösenord
signin-submit = Logga in
signin-offline = Du behöver vara uppkopplad första gången du loggar in.
signin-failed = Fel användarnamn eller lösenord.
signin-error = Inloggningen misslyckades: { $error }
signout = Logga ut
signout-unsynced = { $count ->
    [one] 1 hushåll har ändringar som inte har synkats. Anslut och vänta tills det står "Synkat" innan du loggar ut, annars försvinner de.
   *[other] { $count } hushåll har ändringar som inte har synkats. Anslut och vänta tills det står "Synkat" innan du loggar ut, annars försvinner de.
}
language = Språk

## Navigation
nav-households = Mina hushåll
nav-today = Idag och veckan
nav-back = Tillbaka

## Households
households-search = Sök namn eller adress
households-none = Inga hushåll på enheten ännu.
households-loading = Hämtar hushållen…
households-next-visit = Nästa besök { $when }
households-no-next-visit = Inget besök bokat
households-overdue = { $count ->
    [one] 1 uppföljning försenad
   *[other] { $count } uppföljningar försenade
}
households-people = { $count ->
    [one] 1 person
   *[other] { $count } personer
}
households-closed = Avslutat

## Today
today-title = Planerade besök
today-none = Inga planerade besök de närmaste sju dagarna.
today-record = Dokumentera

## Household
household-members = Personer
household-age = { $age } år
household-languages = Språk: { $languages }
household-interpreter = Behöver tolk: { $language }
household-establishment-end = Etableringstiden slutar { $date }
household-outside = Utanför målgruppen: { $reasons }
household-plan = Handlingsplan
household-plan-empty = Inga mål ännu.
household-visits = Besök
household-visits-empty = Inga besök ännu.
household-follow-ups = Uppföljningar och hänvisningar
household-follow-ups-empty = Inga öppna uppföljningar.
household-record-visit = Dokumentera besök
household-book-visit = Boka besök
household-close-case = Avsluta ärendet
household-conflicts = Fält med två värden
household-housing = { $form }, inflyttad { $date }
household-due = senast { $date }
household-done = klar { $date }
household-now = Nu
household-next = Härnäst

outside-born-in-eea = född inom EU/EES
outside-no-permit-date = datum för uppehållstillstånd saknas
outside-permit-not-granted = uppehållstillstånd ännu inte beviljat
outside-period-ended = mer än 36 månader sedan uppehållstillstånd
outside-age = { $age } år, utanför 18–64
outside-not-registered = inte folkbokförd i stadsdelen
## Visit form
visit-title = Besök
visit-present = Närvarande
visit-interpreter = Tolk
visit-interpreter-none = Ingen tolk
visit-interpreter-language = Tolkspråk
visit-duration = Längd (minuter)
visit-topics = Ämnen
visit-notes = Anteckningar
visit-follow-up = Uppföljning
visit-follow-up-description = Vad ska göras
visit-follow-up-owner = Vem
visit-follow-up-due = Senast
visit-next = Boka nästa besök
visit-next-none = Boka inte nu
visit-save = Spara besöket
visit-saved = Besöket är sparat på enheten.
visit-cancel = Avbryt
visit-error = Besöket kunde inte sparas: { $error }

## Plan editing
plan-goal-status = Målets status
plan-steps = { $count ->
    [one] 1 steg
   *[other] { $count } steg
}
plan-add-step = Lägg till steg
plan-step-description = Nytt steg
plan-step-owner = Vem gör det
plan-step-due = Klart senast
plan-add-goal = Lägg till mål
plan-goal-member = För vem
plan-goal-area = Område
plan-goal-description = Målet med hushållets egna ord
plan-notes = Anteckningar om planen
plan-notes-save = Spara anteckningen
plan-error = Kunde inte sparas: { $error }

## Closing a case
close-reason = Anledning
close-date = Datum
close-submit = Avsluta ärendet
close-closed = Avslutat { $date }: { $reason }
close-reopen = Öppna ärendet igen

## Conflicts
conflict-title = Två värden för samma fält
conflict-choose = Välj
conflict-by = { $author }, { $time }
conflict-this-device = den här enheten
conflict-other-device = en annan enhet

## Codes (the keys are core's codes)

housing-transitional_housing = Genomgångsbostad
housing-municipal_contract = Kommunkontrakt
housing-social_contract = Socialt kontrakt
housing-other_contract = Annat kontrakt
housing-own_housing = Eget boende

route-assigned = Anvisad
route-quota_refugee = Kvotflykting
route-family_reunification = Anknytning
route-unaccompanied_minor = Ensamkommande
route-unaccompanied_minor_family = Familj till ensamkommande
route-own_housing = Eget boende (EBO)

case-active = Aktivt
case-closed = Avslutat

close-work = Arbete
close-studies = Studier
close-moved = Flyttat
close-other = Annat

gender-female = Kvinna/flicka
gender-male = Man/pojke
gender-other = Annat

visit-status-planned = Planerat
visit-status-done = Genomfört
visit-status-cancelled = Inställt
visit-status-no_show = Uteblev

mode-in_person = På plats
mode-phone = Telefon

topic-letters = Läsa och förklara brev
topic-forms = Blanketter och ansökningar
topic-housing_search = Bostadssökande
topic-budget = Budget
topic-online_bills = Betala räkningar digitalt
topic-home_equipment_loan = Hemutrustningslån
topic-home_insurance = Hemförsäkring
topic-bank_account = Bankkonto
topic-tenancy = Hyresgäst: rättigheter och skyldigheter
topic-society = Hur samhället fungerar
topic-agencies = Rätt myndighet
topic-migration_agency = Migrationsverket
topic-tax_agency = Skatteverket
topic-social_insurance = Försäkringskassan
topic-employment_service = Arbetsförmedlingen
topic-csn = CSN
topic-sfi = SFI
topic-civic_orientation = Samhällsorientering
topic-adult_education = Vuxenutbildning
topic-school = Skola och förskola
topic-health_care = Hälso- och sjukvård
topic-leisure = Fritid och föreningsliv
topic-mentor = Mentor

agency-migration_agency = Migrationsverket
agency-tax_agency = Skatteverket
agency-social_insurance = Försäkringskassan
agency-employment_service = Arbetsförmedlingen
agency-csn = CSN
agency-social_services = Socialtjänsten
agency-adult_education = Vuxenutbildningen
agency-school = Skolan
agency-health_care = Vården
agency-landlord = Hyresvärden
agency-bank = Banken
agency-other = Annan

owner-member = Personen själv
owner-staff = Jag
owner-agency = Myndighet

goal-own_income = Egen försörjning
goal-work_or_studies = Arbete eller studier
goal-sfi = SFI
goal-permanent_home = Stadigvarande boende
goal-health = Hälsa
goal-social_participation = Socialt nätverk och delaktighet
goal-agency_registrations = Registreringar hos myndigheter

goal-status-not_started = Inte påbörjat
goal-status-in_progress = Pågår
goal-status-stalled = Står still
goal-status-reached = Uppnått
goal-status-dropped = Avbrutet

step-status-open = Öppet
step-status-done = Klart
step-status-cancelled = Inställt

## Field names, for conflicts
field-status = Status
field-description = Beskrivning
field-due_on = Klart senast
field-address = Adress
field-unit = Lägenhet
field-housing_form = Boendeform
field-arrival_route = Mottagningsform
field-assigned_staff = Ansvarig
field-name = Namn
field-phone = Telefon
field-duration_minutes = Längd (minuter)
field-planned_at = Tid
field-interpreter_language = Tolkspråk
field-area = Område
field-in-goal = Målet ”{ $name }”
field-in-step = Steget ”{ $name }”
field-in-visit = Besöket { $when }
