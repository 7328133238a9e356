app-name = Lots
app-tagline = Home visits and individual plans for housing support

## Status line
status-synced = Synced
status-waiting = { $count ->
    [one] 1 change waiting
   *[other] { $count } changes waiting
}
status-offline-since = Offline since { $time }
status-connecting = Connecting…
status-conflicts = { $count ->
    [one] 1 conflict to review
   *[other] { $count } conflicts to review
}
status-saving = Saving…
status-saved = Saved on this device
status-new-version = New version available
status-reload = Reload

## Sign in
signin-title = Sign in
signin-username = Username
signin-password = Password
signin-submit = Sign in
signin-with = Sign in with { $provider }
signin-or-password = or with your Lots username and password:
signin-offline = You need to be online the first time you sign in.
signin-failed = Wrong username or password.
signin-error = Signing in failed: { $error }
signin-throttled = Too many failed sign-ins. Try again in { $minutes ->
    [one] a minute
   *[other] { $minutes } minutes
}.
status-session-ended = Your sign-in has expired – sign in again to sync
signin-again-title = Sign in again
wiped-device-revoked = An administrator revoked this device. Everything Lots had stored on it has been deleted.
wiped-user-disabled = An administrator disabled your account. Everything Lots had stored on this device has been deleted.
shut-out-kept = An administrator revoked this device or disabled your account. Everything on it that the server already has has been deleted. What has not reached the server yet stays here, so that nothing written is lost: talk to your supervisor.
signin-again-why = The server no longer recognises your sign-in on this device. Everything you have saved is still here and syncs once you have signed in again.
signin-again-other-person = You signed in at the sign-in service as somebody else. This device is { $name }'s: reload the page and sign in again as { $name }.
signin-again-offline = You are offline. Sign in again when you have coverage; everything stays on the device.
boot-app-not-loaded = You are signed in, but the app could not be loaded: { $error }. Reload the page when you have coverage.
boot-welcome = Welcome, { $name }!
boot-loading = Lots is being fetched. The first time, on a slow connection, this takes a moment.
signout = Sign out
signout-unsynced = { $count ->
    [one] 1 household has changes that are not synced yet. Connect and wait for "Synced" before signing out, or they would be lost.
   *[other] { $count } households have changes that are not synced yet. Connect and wait for "Synced" before signing out, or they would be lost.
}
language = Language

## Navigation
nav-households = My households
nav-today = Today and this week
nav-back = Back

## Households
households-search = Search name or address
households-none = No households on this device yet.
households-loading = Fetching the households…
households-next-visit = Next visit { $when }
households-no-next-visit = No visit booked
households-overdue = { $count ->
    [one] 1 follow-up overdue
   *[other] { $count } follow-ups overdue
}
households-people = { $count ->
    [one] 1 person
   *[other] { $count } people
}
households-closed = Closed

## Today
today-title = Planned visits
today-none = No planned visits in the next seven days.
today-record = Record

## Household
household-members = People
household-age = { $age } years
household-languages = Languages: { $languages }
household-interpreter = Needs an interpreter: { $language }
household-establishment-end = Establishment period ends { $date }
household-outside = Outside the target group: { $reasons }
household-plan = Individual plan
household-plan-empty = No goals yet.
household-visits = Visits
household-visits-empty = No visits yet.
household-follow-ups = Follow-ups and referrals
household-follow-ups-empty = No open follow-ups.
household-record-visit = Record a visit
household-book-visit = Book a visit
household-close-case = Close the case
household-conflicts = Fields with two values
household-housing = { $form }, moved in { $date }
household-due = by { $date }
household-done = done { $date }
household-now = Now
household-next = Next

outside-born-in-eea = born inside the EU/EEA
outside-no-permit-date = no residence permit date
outside-permit-not-granted = residence permit not yet granted
outside-period-ended = more than 36 months since the residence permit
outside-age = aged { $age }, outside 18–64
outside-not-registered = not registered in the district

## Visit form
visit-title = Visit
visit-present = Present
visit-interpreter = Interpreter
visit-interpreter-none = No interpreter
visit-interpreter-language = Interpreter language
visit-duration = Duration (minutes)
visit-topics = Topics
visit-notes = Notes
visit-follow-up = Follow-up
visit-follow-up-description = What is to be done
visit-follow-up-owner = Who
visit-follow-up-due = Due
visit-next = Book the next visit
visit-next-none = Do not book now
visit-save = Save the visit
visit-saved = The visit is saved on this device.
visit-cancel = Cancel
visit-error = The visit could not be saved: { $error }

## Plan editing
plan-goal-status = Goal status
plan-steps = { $count ->
    [one] 1 step
   *[other] { $count } steps
}
plan-add-step = Add step
plan-step-description = New step
plan-step-owner = Who does it
plan-step-due = Due by
plan-step-overdue = overdue
plan-add-goal = Add goal
plan-goal-member = For whom
plan-step-no-staff = The step cannot be yours: nobody is signed in on this device. Sign in again.
plan-goal-area = Area
plan-goal-description = The goal in the household's own words
plan-notes = Plan notes
plan-notes-save = Save the note
plan-error = Could not be saved: { $error }

## Closing a case
close-reason = Reason
close-date = Date
close-submit = Close the case
close-closed = Closed { $date }: { $reason }
close-reopen = Reopen the case

## Conflicts
conflict-title = Two values for one field
conflict-choose = Choose
conflict-by = { $author }, { $time }
conflict-this-device = this device
conflict-other-device = another device

## Codes (the keys are core's codes)

housing-transitional_housing = Transitional housing
housing-municipal_contract = Municipal contract
housing-social_contract = Social contract
housing-other_contract = Other contract
housing-own_housing = Own housing

route-assigned = Assigned
route-quota_refugee = Quota refugee
route-family_reunification = Family reunification
route-unaccompanied_minor = Unaccompanied minor
route-unaccompanied_minor_family = Family of unaccompanied minor
route-own_housing = Own housing (EBO)

case-active = Active
case-closed = Closed

close-work = Work
close-studies = Studies
close-moved = Moved
close-other = Other

gender-female = Woman/girl
gender-male = Man/boy
gender-other = Other

visit-status-planned = Planned
visit-status-done = Done
visit-status-cancelled = Cancelled
visit-status-no_show = No-show

mode-in_person = In person
mode-phone = Phone

topic-letters = Reading and explaining letters
topic-forms = Forms and applications
topic-housing_search = Housing search
topic-budget = Budget
topic-online_bills = Paying bills online
topic-home_equipment_loan = Home-equipment loan
topic-home_insurance = Home insurance
topic-bank_account = Bank account
topic-tenancy = Tenancy: rights and duties
topic-society = How society works
topic-agencies = Finding the right agency
topic-migration_agency = Migration Agency
topic-tax_agency = Tax Agency
topic-social_insurance = Social Insurance Agency
topic-employment_service = Public Employment Service
topic-csn = CSN
topic-sfi = SFI
topic-civic_orientation = Civic orientation
topic-adult_education = Adult education
topic-school = School and preschool
topic-health_care = Health care
topic-leisure = Leisure and associations
topic-mentor = Mentor

agency-migration_agency = Migration Agency
agency-tax_agency = Tax Agency
agency-social_insurance = Social Insurance Agency
agency-employment_service = Public Employment Service
agency-csn = CSN
agency-social_services = Social services
agency-adult_education = Adult education
agency-school = School
agency-health_care = Health care
agency-landlord = Landlord
agency-bank = Bank
agency-other = Other

owner-member = The person
owner-staff = Me
owner-agency = An agency

goal-own_income = Own income
goal-work_or_studies = Work or studies
goal-sfi = SFI
goal-permanent_home = A permanent home
goal-health = Health
goal-social_participation = Social network and participation
goal-agency_registrations = Registrations with agencies

goal-status-not_started = Not started
goal-status-in_progress = In progress
goal-status-stalled = Stalled
goal-status-reached = Reached
goal-status-dropped = Dropped

step-status-open = Open
step-status-done = Done
step-status-cancelled = Cancelled

## Field names, for conflicts
field-status = Status
field-description = Description
field-due_on = Due by
field-address = Address
field-unit = Flat
field-housing_form = Housing form
field-arrival_route = Arrival route
field-assigned_staff = Assigned to
field-name = Name
field-phone = Phone
field-duration_minutes = Duration (minutes)
field-planned_at = Time
field-interpreter_language = Interpreter language
field-area = Area
field-in-goal = The goal “{ $name }”
field-in-step = The step “{ $name }”
field-in-visit = The visit { $when }
field-district = District
field-arrived_on = Arrived
field-opened_on = Case opened
field-close_reason = Reason for closing
field-closed_on = Case closed
field-birth_date = Date of birth
field-gender = Gender
field-residence_permit_on = Residence permit
field-born_outside_eea = Born outside the EU/EEA
field-registered_in_district = Registered in the district
field-languages = Languages
field-staff = Staff
field-interpreter_mode = Interpreting
field-topics = Topics
field-notes = Notes
field-owner_kind = Who does it
field-owner = Responsible
field-agency = Agency
field-done_on = Done
field-set_on = Set
field-reached_on = Reached

## The supervisor's desk
nav-desk = Overview
nav-workload = Workload
nav-plans = Plans
nav-report = Report
nav-log = Log
desk-directory-problem = Users and districts could not be fetched: { $error }
desk-not-loaded = The desk's app could not be loaded on this computer. Everything saved on it is still here: reload the page when the network is back.
desk-csv = CSV
desk-csv-not-logged = The export was not saved: it must be logged first, and that failed ({ $error }). Try again when the computer is connected.
desk-csv-of = Download { $what } as CSV
desk-reading = Reading the households as they were then: { $done } of { $of }…
desk-unreadable = { $count ->
    [one] 1 household could not be read and is missing from the figures.
   *[other] { $count } households could not be read and are missing from the figures.
}
desk-overview = All households
desk-district = District
desk-staff = Staff
desk-status = Status
desk-sort = Sort by
desk-sort-overdue = Overdue follow-ups
desk-sort-next_visit = Next visit
desk-sort-last_visit = Last visit
desk-any-district = All districts
desk-any-staff = All staff
desk-any-status = All
desk-any-housing = All housing forms
desk-any-route = All arrival routes
desk-nobody = Nobody
desk-showing = Showing { $shown } of { $matching } matching households ({ $total } in all).
desk-show-all = Show all { $count }
desk-household = Household
desk-next-visit = Next visit
desk-last-visit = Last visit
desk-overdue = Overdue follow-ups
desk-assign-for = Responsible for { $household }
desk-assign-failed = Could not be assigned: { $error }
desk-unassigned = Nobody responsible
desk-households = Open cases
desk-visits-booked = Visits booked this month
desk-visits-done = Done
desk-visits-unrecorded = Past and not recorded
desk-visits-not-done = Not done
desk-visits-chart = Visits this month per person
desk-workload = Workload
desk-month = The month { $from }–{ $to }
desk-plans = Plan progress
desk-as-of = The plans as they stood on
desk-date-future = Choose a date that has passed.
desk-date-invalid = “{ $value }” is not a date.
desk-goals = All goals
desk-plans-as-of = Open cases and their goals per district on { $date }.
desk-plans-chart = Goals by status and district
desk-report = Tertial report
desk-tertial-label = Tertial
desk-tertial = { $name } ({ $from }–{ $to })
desk-all-districts = All districts
desk-print = Print
desk-report-basis = The households as they stood at the period's end ({ $from }–{ $to }); { $households } households existed then.
desk-people-supported = People supported
desk-goals-reached = Goals reached
desk-amount-invalid = “{ $value }” is not an amount in kronor.
cost-share-title = Cost share between the districts
cost-share-explained = In proportion to each district's registered newcomers aged 18–64 with a residence permit in the period. By default, the twelve months up to the tertial's end.
cost-share-from = From
cost-share-to = To
cost-share-amount = Cost to share (SEK)
cost-share-chart = Newcomers aged 18–64 per district
cost-share-period-invalid = The period ends before it starts.
cost-share-no-districts = There are no districts to share the cost between.
cost-share-no-newcomers = None of the districts has registered newcomers aged 18–64 in the period, so the cost cannot be shared by them.
cost-share-too-many = The number of newcomers is impossibly large.
cost-share-duplicate = District { $district } is listed twice.
desk-log = Access log
desk-log-loading = Fetching the log…
desk-log-failed = The log could not be fetched: { $error }
desk-log-when = When
desk-log-who = Who
desk-log-device = Device
desk-log-action = Event
desk-log-detail = Detail
desk-log-from = From
desk-log-to = To
desk-log-intact = The log's chain is unbroken.
desk-log-broken = The log was altered afterwards at row { $row }.
desk-log-count = Showing { $shown } of { $fetched } rows fetched.
desk-any-person = Everyone
desk-any-household = All households
desk-any-action = All events
log-action-open = Opened
log-action-change = Changed
log-action-sign-in = Signed in
log-action-sign-in-failed = Failed sign-in
log-action-sign-out = Signed out
log-action-user-created = Created a user
log-action-user-disabled = Disabled a user
log-action-user-enabled = Enabled a user again
log-action-device-revoked = Revoked a device
log-action-district-created = Created a district
log-action-district-renamed = Renamed a district
log-action-refused = Refused

report-total = Total
report-language-none = Language not recorded
report-table-cases = Cases
report-table-visits = Visits
report-table-interpreters = Interpreters by language
report-table-topics = Topics
report-table-goals_reached = Goals reached
report-table-cost_share = Cost share
report-column-case_figure = Cases
report-column-visit_status = Visits
report-column-language = Language
report-column-topic = Topic
report-column-goal_area = Area
report-column-district = District
report-column-households = Households
report-column-visits = Visits
report-column-in_person = In person
report-column-phone = Phone
report-column-minutes = Minutes
report-column-visits_without_minutes = Visits with no length recorded
report-column-goals = Goals
report-column-people = People
report-column-newcomers = Newcomers 18–64
report-column-share_numerator = Share, numerator
report-column-share_denominator = Share, denominator
report-column-per_mille = Per mille
report-column-amount_ore = Amount (öre)
report-case-supported = Households supported
report-case-new = New cases
report-case-closed = Closed cases
report-case-closed_work = Closed: work
report-case-closed_studies = Closed: studies
report-case-closed_moved = Closed: moved
report-case-closed_other = Closed: other
report-case-closed_not_recorded = Closed: no reason recorded
household-read-only = Shown to read.
household-edit = Edit
language-name-ar = Arabic
language-name-fa = Persian
language-name-prs = Dari
language-name-so = Somali
language-name-ti = Tigrinya
language-name-uk = Ukrainian
language-name-en = English
language-name-sv = Swedish
cost-share-amount-of = { $district }: { $amount } ({ $per_mille } ‰)

## Refused changes (the server's quarantine) and households that cannot be read
status-held-back = { $count ->
    [one] 1 household held back
   *[other] { $count } households held back
}
status-unreadable = { $count ->
    [one] 1 household cannot be read
   *[other] { $count } households cannot be read
}
status-quarantine-full = Syncing waits for a supervisor
refused-notices = Changes the server refused
refused-notice = The server refused a change to { $household }: { $reason }. What you wrote is kept on this phone.
refused-waiting = A supervisor will look at the change. Until then this household does not sync from this phone; everything else syncs as usual.
refused-rejected = A supervisor rejected your change to { $household } ({ $reason }). It will never reach the server.
refused-rejected-next = What you wrote is still on this phone. The household continues from the server's version as soon as the phone has made the move; what the server did not take is kept for you to read and copy.
refused-open = Show the household
refused-reason-signer = it was signed by someone else or on another device
refused-reason-unsigned = it was not signed
refused-reason-actor = it was written under an author id that belongs to another device
refused-reason-clock = it was signed with a clock too far ahead of the server's – check the phone's date and time
refused-reason-too-large = it was larger than any change the app makes
refused-reason-deletes = it removed recorded entries, which are only ever corrected or closed
refused-reason-replaces = it replaced a part of the household that holds recorded entries
refused-reason-shape = it did not fit the household's record
refused-reason-role = it did something your role does not allow
refused-reason-held = it was refused before and waits for a supervisor's decision
refused-reason-depends = it builds on another change that was refused
refused-reason-damaged = it was damaged
refused-reason-unknown = for a reason this version of the app does not know ({ $code })
quarantine-full-notice = { $count ->
    [one] The server takes nothing from this phone until a supervisor has looked at 1 change it refused. Everything you write is kept on this phone and syncs then.
   *[other] The server takes nothing from this phone until a supervisor has looked at { $count } changes it refused. Everything you write is kept on this phone and syncs then.
}
households-held-back = Not syncing: a change was refused
households-held-back-rejected = Not syncing: a change was rejected
households-unreadable = Cannot be read
households-unreadable-device = On this phone: { $reason }
households-unreadable-server = On the server: { $reason }
households-server-unreadable = The server cannot read this household: { $reason }
household-unnamed = Household { $id }
household-unreadable = This household cannot be read: { $reason }
desk-unreadable-here = On this computer: { $reason }
nav-quarantine = Quarantine
desk-quarantine = Refused changes
desk-quarantine-explained = Changes the server did not take from a phone or computer. They are not in the household. Accept a change that was refused wrongly, and it is merged and synced; reject it otherwise, and it is never merged.
desk-quarantine-loading = Fetching the refused changes…
desk-quarantine-failed = The refused changes could not be fetched: { $error }
desk-quarantine-none = No refused changes.
desk-quarantine-count = { $pending } waiting for a decision of { $total } in all.
desk-quarantine-any-status = All
desk-quarantine-refresh = Fetch again
desk-quarantine-signed = Signed
desk-quarantine-received = Received
desk-quarantine-reason = Reason
desk-quarantine-status = Status
desk-quarantine-no-household = No household (the message was never read)
desk-quarantine-unread = A message of { $megabytes } MB, over the limit: it was not read and nothing of it was kept, so it can only be rejected.
desk-quarantine-no-time = unknown
desk-quarantine-decided-by = { $who }, { $when }
desk-quarantine-accept = Accept
desk-quarantine-reject = Reject
desk-quarantine-accept-label = Accept the change from { $who } to { $household }
desk-quarantine-reject-label = Reject the change from { $who } to { $household }
desk-quarantine-accepted = { $count ->
    [one] Accepted 1 change to { $household }. It is merged into the household and synced.
   *[other] Accepted { $count } changes to { $household }. They are merged into the household and synced.
}
desk-quarantine-rejected = { $count ->
    [one] Rejected 1 change to { $household }. It will never be merged into the household.
   *[other] Rejected { $count } changes to { $household }. They will never be merged into the household.
}
desk-quarantine-decide-failed = The decision could not be saved: { $error }
quarantine-status-pending = Waiting
quarantine-status-accepted = Accepted
quarantine-status-rejected = Rejected
log-action-read = Shown
log-action-caseload-listed = Listed a caseload
log-action-log-read = Read the log
log-action-log-reviewed = Reviewed the log
log-action-user-access-changed = Changed access
log-action-export = Exported
log-flag-after-hours = Outside working hours
log-flag-many-households = Many households in a short time
log-flag-export = Export
desk-log-flags = To review
desk-log-flagged-only = Only rows to review
desk-log-review = Review
desk-log-review-help = Choose a period (From and To) and write what you found; the review is kept with your name and logged.
desk-log-review-comment = Comment
desk-log-review-district = District
desk-log-review-all = All my districts
desk-log-review-save = Mark the period reviewed
desk-log-review-saved = The period is marked reviewed.
desk-log-review-failed = The review was not saved: { $error }
desk-log-review-needs-period = Choose both From and To first.
desk-log-reviews = Earlier reviews
desk-log-reviews-none = No reviews yet.
desk-log-review-period = Period
desk-log-review-by = Reviewed by
log-action-quarantine-accepted = Accepted a refused change
log-action-quarantine-rejected = Rejected a refused change
log-action-household-removed = Removed a household
log-action-report-filed = Filed a tertial report
log-action-person-copy-made = Made a person's copy
log-action-person-copy-released = Released a person's copy

## Filed tertial reports
filed-title = Filed reports
filed-none = The report for this tertial and district has not been filed.
filed-entry = Filed { $when } by { $by }.
filed-show = Show as filed
filed-show-live = Show today's figures
filed-file = File the report for { $tertial }
filed-file-again = File the report for { $tertial } again (a correction; the earlier one is kept)
filed-explained = The server computes the report from the households as they stood at the tertial's end and keeps it as filed: totals only, no person. It does not change when households are thinned out or removed later.
filed-not-over = The report can be filed once the tertial is over ({ $date }).
filed-not-every-district = The report for every district is filed by a supervisor of every district. File your districts' reports one by one.
filed-basis = The report as filed { $when } by { $by }, over the { $households } households in its scope at the tertial's end.
filed-failed = The report could not be filed: { $error }
filed-load-failed = Filed reports could not be loaded: { $error }

## A person's own copy (GDPR art. 15)
copy-section = Personal data copies
copy-section-help = Everything Lots holds about one person, to review and release (GDPR article 15). Making and releasing the copy are logged.
copy-for = Copy for { $name }
copy-back = Back to the household
copy-loading = Making the copy …
copy-failed = The copy could not be made: { $error }
copy-title = Copy for { $name } – review
copy-title-released = Copy for { $name }
copy-made = Household { $household }. Made by { $by } { $when }.
copy-review-help = Read every entry. Mark what may not be released under secrecy (for example what a note says about someone else). The copy then shows that the entry exists but not what it says.
copy-withhold = Withhold (secrecy)
copy-withheld-count = Entries withheld: { $count }
copy-release = Release the copy
copy-make-again = Make the copy again
copy-release-failed = The copy could not be released: { $error }
copy-released = The copy was released { $when }. Entries withheld: { $withheld }.
copy-save-json = Save as JSON
copy-withheld = This entry is withheld (secrecy under the Public Access to Information and Secrecy Act).
copy-written-by = Written by:
copy-unsigned = unknown (not signed)
copy-not-recorded = –
copy-yes = Yes
copy-no = No
copy-owner-this_person = The person
copy-owner-another_member = Another member of the household
copy-kind-household = The household
copy-kind-member = Personal details
copy-kind-visit = Visit
copy-kind-visit_notes = Notes from the visit
copy-kind-follow_up = Follow-up from the visit
copy-kind-goal = Goal in the plan
copy-kind-step = Step towards a goal
copy-kind-plan_notes = Notes on the household's plan
kept-title = What you wrote that the server did not take
kept-explained = A supervisor rejected a change you made ({ $reason }). So the household continues from the server's version since { $date }. Below is what you wrote that did not come along. Select or copy what you need; it stays on this phone until you remove it.
kept-replayed = { $count ->
    [one] 1 thing you did after the rejected change was entered again and syncs as usual.
   *[other] { $count } things you did after the rejected change were entered again and sync as usual.
}
kept-notice = A supervisor rejected your change to { $household } ({ $reason }). The household syncs again from the server's version. What you wrote that the server did not take is kept on the household's page.
kept-open = Show what you wrote
kept-copy = Copy
kept-copied = Copied
kept-copy-failed = Could not copy – select the text and copy it yourself.
kept-minutes = { $minutes } min
kept-on = Date { $date }
kept-written = Written { $time }
kept-action = Action: { $action }
kept-dismiss = I have what I need – remove
kept-dismiss-warning = The text above leaves this phone for good. It is not on the server.
kept-dismiss-confirm = Remove for good
kept-dismiss-cancel = Cancel
kept-what-address = Address
kept-what-member = Person
kept-what-visit-planned = Visit booked
kept-what-visit-recorded = Visit
kept-what-visit-cancelled = Visit called off
kept-what-visit-no-show = Visit nobody came to
kept-what-visit-notes = Visit notes
kept-what-plan-notes = Plan notes
kept-what-follow-up = Follow-up
kept-what-follow-up-done = Follow-up done
kept-what-goal = Goal
kept-what-goal-status = Where the goal stands
kept-what-step = Step
kept-what-step-status = Where the step stands
kept-what-case-closed = Case closed
kept-what-case-reopened = Case reopened
kept-what-other = Another change
signout-reads = { $count ->
    [one] 1 household shown on this device has not reached the server's log yet. Connect, so that it is sent, and then sign out.
   *[other] { $count } households shown on this device have not reached the server's log yet. Connect, so that they are sent, and then sign out.
}
signout-kept = { $count ->
    [one] There is text the server did not take in 1 household. Copy what you need and remove it on the household's page before signing out.
   *[other] There is text the server did not take in { $count } households. Copy what you need and remove it on the households' pages before signing out.
}

## A new password after a temporary one
password-title = Choose a new password
password-why = { $name }, you signed in with a temporary password. Choose your own password before you continue; the temporary one stops working.
password-current = Temporary password
password-current-wrong = The temporary password is not right. Type it exactly as you were given it.
password-new = New password
password-hint = At least { $count } characters. A few words you remember are fine.
password-repeat = New password again
password-submit = Save new password
password-mismatch = The two new passwords are not the same.
password-same = The new password must differ from the temporary one.

## The administrator's console
role-staff = Staff
role-supervisor = Supervisor
role-admin = Administrator
admin-title = Lots – administration
admin-nav-users = Users
admin-nav-districts = Districts
admin-nav-devices = Devices
admin-nav-caseloads = Caseloads
admin-loading = Loading…
admin-none = None
admin-save = Save
admin-cancel = Cancel
admin-column-name = Name
admin-column-username = Username
admin-column-role = Role
admin-column-districts = Districts
admin-column-status = Status
admin-column-actions = Actions
admin-column-person = Person
admin-column-device = Device
admin-column-first-seen = First signed in
admin-column-last-seen = Last seen
admin-column-district-id = Id in the records
admin-users-title = Users
admin-users-intro = Everyone who may sign in to Lots. Every change is recorded in the log with your name.
admin-users-count = { $count ->
    [one] 1 user
   *[other] { $count } users
}
admin-user-new = New user
admin-user-create = Create user
admin-user-created = { $name } was created. Hand over the first password securely.
admin-user-edit = Change
admin-user-edit-title = Change { $name }
admin-user-own = This is you: another administrator changes your role and districts.
admin-user-role-audited = A change of role is recorded in the log and shown to the supervisors of the districts concerned.
admin-user-saved = { $name } was saved.
admin-user-unchanged = Nothing was changed for { $name }.
admin-user-reset = Reset password
admin-user-disable = Disable
admin-user-enable = Enable
admin-user-disabled = { $name } is disabled and signed out everywhere.
admin-user-enabled = { $name } can sign in again.
admin-user-status-active = Active
admin-user-status-disabled = Disabled
admin-username-hint = Letters, digits, "." or "-". Cannot be changed later.
admin-initial-password = First password
admin-initial-password-suggest = Suggest a password
admin-initial-password-hint = At least 12 characters. Hand it over in person or by phone, never by e-mail.
admin-reset-title = Reset the password of { $name }?
admin-reset-explain = A temporary password is made and shown to you once. The current password stops working, and they must choose a new one the next time they sign in.
admin-reset-confirm = Make a temporary password
admin-temporary-title = Temporary password for { $name }
admin-temporary-once = It is shown only now. Nobody, you included, can see it again.
admin-temporary-hand-over = Hand it over securely: in person or by phone to the person themselves, never by e-mail or text message.
admin-temporary-change = { $name } must choose a new password at the next sign-in.
admin-temporary-done = I have handed it over – hide it
admin-districts-title = Districts
admin-districts-intro = The districts households and staff belong to. Renaming keeps the id that the records hold.
admin-districts-count = { $count ->
    [one] 1 district
   *[other] { $count } districts
}
admin-districts-none = There are no districts yet.
admin-district-new = New district
admin-district-create = Create district
admin-district-created = The district { $name } was created.
admin-district-id-hint = Its id is made from the name.
admin-district-id-will-be = Its id will be { $id }.
admin-district-rename = Rename
admin-district-new-name = New name for { $name }
admin-district-renamed = The district is now called { $name }.
admin-devices-title = Devices
admin-devices-intro = Every device someone has signed in on. Revoke a lost or stolen phone: it is signed out at once and can no longer sync.
admin-devices-count = { $count ->
    [one] 1 device
   *[other] { $count } devices
}
admin-devices-filter = Find a person
admin-device-in-use = In use
admin-device-revoked-at = Revoked { $time }
admin-device-revoke = Revoke
admin-device-of = : { $device } of { $name }
admin-device-confirm = Revoke { $device } of { $name }? It is signed out at once and cannot sync again. { $name } signs in anew on another device.
admin-device-revoke-confirm = Yes, revoke the device
admin-device-revoked = { $device } of { $name } is revoked.
admin-device-browser-on = { $browser } on { $system }
admin-caseloads-title = Caseloads
admin-caseloads-intro = How many households each person holds in each district, and how many nobody holds. Only counts: administrators see no household.
admin-caseloads-caption = Households per person and district
admin-caseloads-unassigned = Nobody (unassigned)
admin-caseloads-total = Total
admin-error-offline = The server cannot be reached. Check the connection and try again.
admin-error-signed-out = You are no longer signed in. Sign out and sign in again.
admin-error-password-change-required = Choose a new password first.
admin-error-other = The server refused: { $error }
admin-error-username-taken = That username is taken. Choose another.
admin-error-username-invalid = A username is 1–64 letters, digits, "." or "-".
admin-error-weak-password = The password is too short: it needs at least { $count } characters.
admin-error-own-account = You cannot change your own role or districts, nor disable yourself: another administrator can.
admin-error-wrong-password = The current password is not right.
admin-error-forbidden = Only an administrator may do that.
admin-error-district-exists = There is already a district with that id. Choose another name.
admin-error-unknown-district = One of the chosen districts no longer exists. Reload and try again.
admin-error-display-name = Write the person's name.
admin-error-district-name = Write the district's name (at most 100 characters).
admin-error-district-id = That name does not make a usable id: use letters or digits.
admin-error-not-found = It no longer exists. Reload the page.
admin-error-no-district = Choose at least one district for staff and supervisors.
admin-caseloads-no-district = No district
admin-error-own-password = Another administrator resets your own password.
admin-error-nothing-to-change = Nothing was changed.
admin-device-this = This device

admin-nav-retention = Retention
admin-retention-title = Retention
admin-retention-intro = A household's file is removed once the time after its last entry has run out (the Social Services Act). List what is due first and read the list; then remove it, naming the decision's reference. Listing and removing are on record. Phones and computers delete their copies at their next contact with the server.
admin-retention-list = List what is due
admin-retention-rule = Rule: removed { $years } years after the last entry (the server's clock). Today: { $today }.
admin-retention-rule-keeping = Rule: removed { $years } years after the last entry (the server's clock); households with anyone born on the 5th, 15th or 25th are kept for research. Today: { $today }.
admin-retention-due = { $count ->
    [0] No households due
    [one] One household due
   *[other] { $count } households due
}
admin-retention-kept = { $count ->
    [one] One household kept although old enough
   *[other] { $count } households kept although old enough
}
admin-retention-run-title = { $count ->
    [one] Remove the household
   *[other] Remove the { $count } households
}
admin-retention-run-intro = Exactly the households listed are removed, with every visit, note and plan. This cannot be undone.
admin-retention-run = { $count ->
    [one] Remove one household
   *[other] Remove { $count } households
}
admin-retention-done = { $count ->
    [one] One household was removed.
   *[other] { $count } households were removed.
}
admin-retention-decision-missing = Enter the decision's reference.
admin-retention-verdict-due = Due
admin-retention-verdict-research = Kept: someone born on the 5th, 15th or 25th
admin-retention-verdict-unreadable = Kept: its members cannot be read, decide by hand
admin-decision = Decision (reference)
admin-column-household = Household (id)
admin-column-district = District
admin-column-last-entry = Last entry
admin-column-due-on = Due from
admin-column-verdict = Verdict
admin-remove-title = Remove one household on a decision
admin-remove-intro = For a household recorded in error. The supervisor sees the household's id under Households on the desk. The household is removed with everything in it, and this cannot be undone.
admin-remove-household = The household's id
admin-remove-reason = Reason
admin-remove-button = Remove the household
admin-remove-done = Household { $household } is removed.
admin-remove-fields-missing = Fill in the household's id, the decision and the reason.
admin-error-not-due = One of the households is no longer due. List again and remove what the list shows.
admin-error-decision = Enter the decision's reference (at most 200 characters).
admin-error-reason = Enter the reason (at most 1,000 characters).
admin-error-no-household = There is no household with that id, or it was removed already.
household-id = The household's id:

## The lock
unlock-title = Lots is locked
unlock-why = What Lots keeps on this device is encrypted. Type your password to unlock.
unlock-secret = Password
unlock-submit = Unlock
unlock-busy = Unlocking …
unlock-wrong = Wrong password.
unlock-left = { $left ->
    [one] One more try, then everything Lots keeps on this device is erased.
   *[other] { $left } tries left, then everything Lots keeps on this device is erased.
}
unlock-wrong-left = Wrong password. { $left ->
    [one] One try left
   *[other] { $left } tries left
}, then everything Lots keeps on this device is erased{ $waiting ->
    [0] . The server has all of it.
    [one] , changes to one household that have not reached the server too.
   *[other] , changes to { $waiting } households that have not reached the server too.
}
unlock-wiped = Ten wrong passwords in a row: everything Lots kept on this device is erased.
unlock-offline-too-long = This device has not reached the server for { $days } days. Connect to the network to unlock.
unlock-no-person = This device has a key but nobody signed in. Sign out and in again.
unlock-forgot = Forgot your password?
unlock-forgot-why = Then Lots cannot open what it keeps on this device. Erase it and sign in again: the server has everything that was synced.
unlock-forgot-waiting = { $waiting ->
    [one] Changes to one household have not reached the server and will be lost.
   *[other] Changes to { $waiting } households have not reached the server and will be lost.
}
unlock-erase = Erase and sign in again
passphrase-title = Protect this device
passphrase-why = What Lots keeps on this device is encrypted with a passphrase you choose. You type it when the app has locked.
passphrase-new = Passphrase
passphrase-hint = At least { $count } characters, a few words for example.
passphrase-repeat = The same passphrase again
passphrase-submit = Protect and go on
passphrase-too-short = The passphrase needs at least { $count } characters.
passphrase-too-simple = The passphrase is too simple: use more different characters.
passphrase-differ = The passphrases are not the same.
wiped-unlocks = Ten wrong passwords in a row: everything Lots kept on this device is erased.
signin-other-person-waiting = Someone else's changes on this device are waiting to reach the server. That person needs to sign in and sync before you can use the device.
lock-warning = Lots locks in { $seconds } s, since nobody has used it for a while.
lock-keep-working = Keep working
visit-draft-restored = What you typed before the app locked is still here. Save the visit when it is done.
admin-lock-title = Locking devices
admin-lock-intro = The app locks when it has not been used for a while, and a device that has not reached the server for long must before it unlocks. Devices follow this from their next contact.
admin-lock-phone = Minutes before the phone's app locks
admin-lock-desk = Minutes before the desk's app locks
admin-lock-offline = Days a device may go without reaching the server
admin-lock-save = Save the locking
admin-lock-saved = The locking is saved. Devices follow it from their next contact.
unlock-add-passkey = Unlock with this device's screen lock (passkey) next time
unlock-with-passkey = Unlock with a passkey
unlock-passkey-failed = The passkey did not unlock: { $error }. The password works as before.
